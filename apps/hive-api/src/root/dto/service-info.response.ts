import { ApiProperty } from '@nestjs/swagger';

/** Which service answers on this port. */
export class ServiceInfoResponse {
  @ApiProperty({ example: 'hive' })
  service!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;
}

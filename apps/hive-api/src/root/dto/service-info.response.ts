import { ApiProperty } from '@nestjs/swagger';
import type { RootController } from '../root.controller.js';

export class ServiceInfoResponse implements ReturnType<RootController['describe']> {
  @ApiProperty({ example: 'hive' })
  service!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class KeyIdParams {
  @ApiProperty({ format: 'uuid', example: '0b7e4c1a-5d2f-4e8b-9a6c-3f1d2e4b5a6c' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

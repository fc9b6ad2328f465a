import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class TaskIdParams {
  @ApiProperty({ format: 'uuid', example: '6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

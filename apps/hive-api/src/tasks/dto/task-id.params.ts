import { IsUUID } from 'class-validator';

export class TaskIdParams {
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

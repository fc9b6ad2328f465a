import { IsUUID } from 'class-validator';

export class KeyIdParams {
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

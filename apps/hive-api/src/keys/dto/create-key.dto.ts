import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, MaxLength, MinDate, MinLength } from 'class-validator';
import { API_KEY_ROLES, type ApiKeyRole } from '@hive/database';

export class CreateKeyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @IsIn(API_KEY_ROLES, { message: `role must be one of ${API_KEY_ROLES.join(', ')}` })
  role!: ApiKeyRole;

  /** ISO-8601; the key stops working then. */
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'expires_at must be an ISO-8601 date-time' })
  @MinDate(() => new Date(), { message: 'expires_at must be in the future' })
  expires_at?: Date;
}

import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, MaxLength, MinDate, MinLength } from 'class-validator';
import { API_KEY_ROLES, type ApiKeyRole } from '@hive/database';

@ApiSchema({ name: 'CreateApiKeyRequest' })
export class CreateKeyDto {
  @ApiProperty({ description: 'Who or what uses the key', minLength: 1, maxLength: 100, example: 'ci' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiProperty({
    enum: API_KEY_ROLES,
    enumName: 'ApiKeyRole',
    description:
      'admin: everything; operator: submit, cancel and read tasks, read agents and status; viewer: read only',
  })
  @IsIn(API_KEY_ROLES, { message: `role must be one of ${API_KEY_ROLES.join(', ')}` })
  role!: ApiKeyRole;

  /** ISO-8601; the key stops working then. */
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the key stops working; must be in the future. Without it the key never expires',
    example: '2027-01-01T00:00:00Z',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'expires_at must be an ISO-8601 date-time' })
  @MinDate(() => new Date(), { message: 'expires_at must be in the future' })
  expires_at?: Date;
}

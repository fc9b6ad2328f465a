import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_ROLES, type ApiKeyRole, type ApiKeyView } from '@hive/database';

/** A key's record; the key itself is never part of it (Hive keeps only its SHA-256). */
export class ApiKeyResponse implements ApiKeyView {
  @ApiProperty({ format: 'uuid', example: '0b7e4c1a-5d2f-4e8b-9a6c-3f1d2e4b5a6c' })
  id!: string;

  @ApiProperty({ example: 'ci' })
  name!: string;

  @ApiProperty({ enum: API_KEY_ROLES, enumName: 'ApiKeyRole' })
  role!: ApiKeyRole;

  @ApiProperty({ description: 'The first characters of the key, to tell keys apart', example: 'hive_Xk3v9Q' })
  key_prefix!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Updated at most once a minute' })
  last_used_at!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: never expires' })
  expires_at!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: not revoked' })
  revoked_at!: Date | null;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key itself: shown only in this answer, never again', example: 'hive_Xk3v9Q…' })
  key!: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse], description: 'Newest first' })
  keys!: ApiKeyResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, example: 2 })
  total!: number;
}

export class ApiKeyRevokedResponse {
  @ApiProperty({ enum: ['success'] })
  status!: 'success';

  @ApiProperty({ example: 'API key 0b7e4c1a-5d2f-4e8b-9a6c-3f1d2e4b5a6c revoked' })
  message!: string;
}

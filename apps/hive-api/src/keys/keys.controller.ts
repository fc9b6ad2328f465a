import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyService } from '../auth/api-key.service.js';
import { RequireRole } from '../auth/roles.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';
import { ApiKeyListResponse, ApiKeyRevokedResponse, CreatedApiKeyResponse } from './dto/api-key.response.js';
import { CreateKeyDto } from './dto/create-key.dto.js';
import { KeyIdParams } from './dto/key-id.params.js';

@ApiTags('keys')
@ApiKeyAuth()
@ApiErrors({ status: 403, description: 'API keys need the admin role' })
@Controller('api/keys')
@RequireRole('admin')
export class KeysController {
  constructor(private readonly keys: ApiKeyService) {}

  /** The answer holds the key itself: it is never shown again. */
  @Post()
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key (the answer is the only time the key is shown)',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'Created; `key` is shown only here' })
  @ApiErrors(400, 413)
  async create(@Body() dto: CreateKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(dto.name, dto.role, dto.expires_at);
  }

  @Get()
  @ApiOperation({ operationId: 'listApiKeys', summary: 'List API keys (never the keys themselves)' })
  @ApiOkResponse({ type: ApiKeyListResponse, description: 'Every key, newest first' })
  async list(): Promise<ApiKeyListResponse> {
    const keys = await this.keys.list();
    return { keys, total: keys.length };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key: at once on this replica, within 5 s on the others',
  })
  @ApiOkResponse({ type: ApiKeyRevokedResponse, description: 'Revoked' })
  @ApiErrors(
    { status: 400, description: 'The id is not a UUID', message: ['id must be a UUID'] },
    {
      status: 404,
      description: 'No API key has this id',
      message: 'API key 0b7e4c1a-5d2f-4e8b-9a6c-3f1d2e4b5a6c does not exist',
    },
  )
  async revoke(@Param() { id }: KeyIdParams): Promise<ApiKeyRevokedResponse> {
    await this.keys.revoke(id);
    return { status: 'success', message: `API key ${id} revoked` };
  }
}

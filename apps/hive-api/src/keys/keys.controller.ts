import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiKeyService, type ApiKeyView } from '../auth/api-key.service.js';
import { RequireRole } from '../auth/roles.js';
import { CreateKeyDto } from './dto/create-key.dto.js';
import { KeyIdParams } from './dto/key-id.params.js';

@Controller('api/keys')
@RequireRole('admin')
export class KeysController {
  constructor(private readonly keys: ApiKeyService) {}

  /** The answer holds the key itself: it is never shown again. */
  @Post()
  async create(@Body() dto: CreateKeyDto): Promise<ApiKeyView & { key: string }> {
    return this.keys.create(dto.name, dto.role, dto.expires_at);
  }

  @Get()
  async list(): Promise<{ keys: ApiKeyView[]; total: number }> {
    const keys = await this.keys.list();
    return { keys, total: keys.length };
  }

  @Delete(':id')
  @HttpCode(200)
  async revoke(@Param() { id }: KeyIdParams): Promise<{ status: 'success'; message: string }> {
    await this.keys.revoke(id);
    return { status: 'success', message: `API key ${id} revoked` };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { HiveConfig } from '@hive/config';
import { AdminKeyBootstrap } from './admin-key-bootstrap.service.js';
import { ApiKeyService } from './api-key.service.js';
import { ApiThrottlerGuard } from './api-throttler.guard.js';
import { AuthGuard } from './auth.guard.js';
import { WindowThrottlerStorage } from './window-throttler-storage.js';
import { KeysController } from '../keys/keys.controller.js';

/** API keys with roles, the rate limit, and the guards that apply both to every route (limit first). */
@Module({})
export class AuthModule {
  static forRoot(config: HiveConfig): DynamicModule {
    const { throttleLimit, throttleTtlMs } = config.security;
    return {
      module: AuthModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', limit: throttleLimit, ttl: throttleTtlMs }],
          storage: new WindowThrottlerStorage(),
        }),
      ],
      controllers: [KeysController],
      providers: [
        ApiKeyService,
        AdminKeyBootstrap,
        { provide: APP_GUARD, useClass: ApiThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}

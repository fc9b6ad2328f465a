import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { HiveConfig, HiveConfigModule } from '@hive/config';
import { DatabaseModule } from '@hive/database';
import { CoordinatorModule } from '@hive/coordinator';
import { HealthModule } from '@hive/health';
import { LoggingModule } from './logging/logging.module.js';
import { RootController } from './root/root.controller.js';

@Module({})
export class AppModule {
  static forRoot(config: HiveConfig, rootLogger: PinoLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HiveConfigModule.forRoot(config),
        LoggingModule.forRoot(rootLogger),
        DatabaseModule,
        CoordinatorModule,
        HealthModule,
      ],
      controllers: [RootController],
    };
  }
}

import { type DynamicModule, Global, Module } from '@nestjs/common';
import { HiveConfig } from './hive-config.js';

/** Makes the validated configuration injectable everywhere as `HiveConfig`. */
@Global()
@Module({})
export class HiveConfigModule {
  static forRoot(config: HiveConfig): DynamicModule {
    return {
      module: HiveConfigModule,
      providers: [{ provide: HiveConfig, useValue: config }],
      exports: [HiveConfig],
    };
  }
}

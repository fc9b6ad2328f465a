export { envSchema, type Env } from './env.schema.js';
export {
  HiveConfig,
  type DatabaseSettings,
  type CoordinatorSettings,
  type SecuritySettings,
  type GatewaySettings,
  type PoolSettings,
} from './hive-config.js';
export { loadConfig, ConfigError } from './load-config.js';
export { HiveConfigModule } from './config.module.js';
export { PACKAGE, type PackageInfo } from './version.js';

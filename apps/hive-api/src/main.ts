import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ConfigError, type HiveConfig, loadConfig, PACKAGE } from '@hive/config';
import { createApp } from './create-app.js';
import { createRootLogger, redactUrl } from './logging/root-logger.js';

function readConfig(): HiveConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    const logger = createRootLogger({ logLevel: 'info', nodeEnv: 'production' });
    const problems = error instanceof ConfigError ? error.problems : [String(error)];
    logger.fatal({ problems }, error instanceof Error ? error.message : String(error));
    logger.flush();
    process.exit(1);
  }
}

const config = readConfig();
const logger = createRootLogger(config);
logger.info(
  { ...config, database: { ...config.database, url: redactUrl(config.database.url) } },
  `Starting ${PACKAGE.name} ${PACKAGE.version}`,
);

let app: INestApplication | undefined;
try {
  app = await createApp(config, logger);
  await app.listen(config.port, config.host);
  logger.info(`Hive is listening on http://${config.host}:${config.port}`);
} catch (error) {
  logger.fatal({ err: error }, `Hive could not start: ${error instanceof Error ? error.message : String(error)}`);
  await app?.close().catch((closeError: unknown) => logger.error({ err: closeError }, 'Clean-up after a failed start failed'));
  logger.flush();
  process.exit(1);
}

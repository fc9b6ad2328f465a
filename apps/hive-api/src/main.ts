import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ConfigError, type HiveConfig, loadConfig, PACKAGE } from '@hive/config';
import { createApp } from './create-app.js';
import { createRootLogger, redactConfig } from './logging/root-logger.js';

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
logger.info(redactConfig(config), `Starting ${PACKAGE.name} ${PACKAGE.version}`);

let app: INestApplication | undefined;
try {
  app = await createApp(config, logger);
  // SIGTERM/SIGINT run Nest's shutdown hooks (readiness 503, drain, release, close) and then exit 0: without
  // useProcessExit Nest would re-raise the signal and the exit status would read "killed".
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(config.port, config.host);
  logger.info(`Hive is listening on http://${config.host}:${config.port}`);
} catch (error) {
  logger.fatal({ err: error }, `Hive could not start: ${error instanceof Error ? error.message : String(error)}`);
  await app
    ?.close()
    .catch((closeError: unknown) => logger.error({ err: closeError }, 'Clean-up after a failed start failed'));
  logger.flush();
  process.exit(1);
}

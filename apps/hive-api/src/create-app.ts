import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { fastify } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { HiveConfig } from '@hive/config';
import { GatewayMetrics } from '@hive/coordinator';
import { AppModule } from './app.module.js';
import { PinoNestLogger } from './logging/pino-nest-logger.js';
import { logRequests } from './logging/request-log.js';
import { AllExceptionsFilter } from './errors/all-exceptions.filter.js';
import { setupOpenApi } from './openapi/openapi.js';
import { FastPathValidationPipe, VALIDATION } from './validation/fast-path-validation.pipe.js';
import { TASK_FAST_PATHS } from './tasks/dto/task-fast-paths.js';
import { fastifyOptions } from './platform/fastify-options.js';
import { acceptJsonBodiesOnly } from './platform/json-body.js';
import { closeConnectionsOnceClosing } from './platform/close-connections.js';
import { useSecurityHeaders } from './platform/security-headers.js';

/** Every method a route of Hive answers, as Express' cors middleware announced them to a preflight. */
const CORS_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';

/**
 * Builds Hive (connects the database, runs migrations) without listening yet; main.ts and the in-process tests
 * share it, so what is tested is what runs.
 */
export async function createApp(config: HiveConfig, rootLogger: PinoLogger): Promise<NestFastifyApplication> {
  // The instance is Hive's, so that its header hook is the first of all (Nest's adapter adds its own when created).
  const instance = fastify(fastifyOptions(config));
  useSecurityHeaders(instance);
  acceptJsonBodiesOnly(instance);
  logRequests(instance, rootLogger);
  closeConnectionsOnceClosing(instance);
  const adapter = new FastifyAdapter(instance);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(rootLogger),
    abortOnError: false,
    bodyParser: false,
  });
  // Without CORS_ORIGINS, no CORS at all (no hook to run per request): a preflight is then a 404, as under Express.
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
      methods: CORS_METHODS,
      exposedHeaders: 'x-request-id,retry-after,x-hive-task-id,x-hive-agent,x-hive-queue-ms',
      // A preflight without Origin or Access-Control-Request-Method is answered like any other, as Express' cors did.
      strictPreflight: false,
    });
  }
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost), app.get(GatewayMetrics)));
  app.useGlobalPipes(new FastPathValidationPipe(VALIDATION, TASK_FAST_PATHS));
  setupOpenApi(app);
  return app;
}

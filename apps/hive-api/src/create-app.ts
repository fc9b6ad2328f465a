import { ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import type { HiveConfig } from '@hive/config';
import { AppModule } from './app.module.js';
import { PinoNestLogger } from './logging/pino-nest-logger.js';
import { AllExceptionsFilter } from './errors/all-exceptions.filter.js';
import { setupOpenApi } from './openapi/openapi.js';

/**
 * Builds Hive (connects the database, runs migrations) without listening yet; main.ts and the in-process tests
 * share it, so what is tested is what runs.
 */
export async function createApp(config: HiveConfig, rootLogger: PinoLogger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, rootLogger), {
    logger: new PinoNestLogger(rootLogger),
    abortOnError: false,
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: config.security.bodyLimit });
  app.useBodyParser('urlencoded', { limit: config.security.bodyLimit, extended: false });
  app.useLogger(app.get(Logger));
  app.use(helmet());
  app.enableCors({
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    exposedHeaders: ['x-request-id', 'retry-after'],
  });
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost)));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  setupOpenApi(app);
  return app;
}

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { loadConfig } from '@hive/config';
import { AppModule } from '../app.module.js';
import { buildOpenApiDocument } from './openapi.js';

/**
 * The document the server serves, built without a database. Nest's preview mode resolves the same module graph as
 * the server, controllers included, without instantiating a provider: nothing connects anywhere. Configuration is
 * the defaults: the document does not depend on it, and preview mode never uses it to connect.
 */
export async function buildOpenApiDocumentOffline(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(loadConfig({})), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

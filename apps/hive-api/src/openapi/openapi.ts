import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PACKAGE } from '@hive/config';
import { inputJsonSchemas } from '@hive/coordinator';
import { ollamaJsonSchemas } from '../gateway/ollama/ollama-openapi.js';
import { openAiJsonSchemas } from '../gateway/openai/openai-openapi.js';
import { API_KEY_BEARER_SCHEME, API_KEY_HEADER_SCHEME } from './api-key-auth.decorator.js';

/**
 * Swagger UI; the JSON document is served beside it at /api/docs-json. Both are open: they are served outside the
 * router, so no guard sees them.
 */
export const DOCS_PATH = '/api/docs';
export const DOCS_JSON_PATH = `${DOCS_PATH}-json`;

const DESCRIPTION = [
  'Hive coordinates AI agents: operators register LLM servers (Ollama, or OpenAI-compatible ones), clients submit',
  'tasks, Hive queues them in PostgreSQL and hands each to a free agent that serves its type and model, preferring',
  'one that holds the model loaded. Its gateway speaks the OpenAI and Ollama APIs to their own clients, running',
  'every call as a task. Every /api and /v1 route needs an API key (X-API-Key or Authorization: Bearer); `/`,',
  '`/health`, `/health/ready`, `/api/version` and `/api/metrics` (unless METRICS_TOKEN is set) are open.',
  "Every error has the body `ErrorResponse`, but on the gateway's routes (tags openai and ollama): there, errors",
  "come in the client's dialect (`OpenAiError`, `OllamaError`).",
].join(' ');

/** The OpenAPI 3 document of every route, built from the controllers' decorators (no I/O, no database). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Hive API')
    .setDescription(DESCRIPTION)
    .setVersion(PACKAGE.version)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key' }, API_KEY_HEADER_SCHEME)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'The same API key as a bearer token' },
      API_KEY_BEARER_SCHEME,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'METRICS_TOKEN',
        description: 'METRICS_TOKEN, for /api/metrics only',
      },
      'metrics_token',
    )
    .addTag('agents', 'LLM servers that run tasks (admin registers, changes and removes them)')
    .addTag('tasks', 'Work for the agents (operator submits and cancels)')
    .addTag('keys', 'API keys (admin only)')
    .addTag('status', 'The whole picture')
    .addTag('health', 'Probes and the component report')
    .addTag('metrics', 'Prometheus')
    .addTag('service', 'What answers on this port')
    .addTag(
      'openai',
      "OpenAI's API: an OpenAI client with its base URL set to http://<hive>/v1 and a Hive key of role operator as " +
        'its API key runs each call as a Hive task on an agent serving the model',
    )
    .addTag(
      'ollama',
      "Ollama's API on Ollama's own paths: an Ollama client with its host set to http://<hive> (OLLAMA_HOST) and a " +
        'Hive key of role operator as a bearer token runs each call as a Hive task on an agent serving the model',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The inputs of the operations are validated by the coordinator's schemas: the document shows those, not a copy.
  // The gateway's dialects are described by hand, beside their routes.
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...inputJsonSchemas(),
      ...openAiJsonSchemas(),
      ...ollamaJsonSchemas(),
    },
  };
  return document;
}

/**
 * Serves Swagger UI at /api/docs (its files through @fastify/static) and the document at /api/docs-json. The UI's
 * pages get a policy of their own (platform/security-headers.ts).
 */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, buildOpenApiDocument(app), {
    raw: ['json'],
    customSiteTitle: 'Hive API',
    // No badge from validator.swagger.io: it would send the document's URL to a third party (and CSP blocks it).
    swaggerOptions: { validatorUrl: null },
  });
}

import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiResponse,
  ApiSecurity,
  getSchemaPath,
  type ApiResponseOptions,
} from '@nestjs/swagger';
import type { GatewayDialect } from '@hive/database';
import { API_KEY_BEARER_SCHEME, API_KEY_HEADER_SCHEME } from '../openapi/api-key-auth.decorator.js';
import { PRIORITY_HEADER, QUEUE_TIMEOUT_HEADER } from './call-headers.js';
import { gatewayErrorBody } from './gateway-error-body.js';

/**
 * What the gateway's routes (openai/openai-openapi.ts, ollama/ollama-openapi.ts) share in the OpenAPI document:
 * the API key, Hive's own request and response headers, and errors in each dialect's shape.
 */

/** The components naming each dialect's error body (defined beside the dialect's other schemas). */
export const ERROR_SCHEMA: Readonly<Record<GatewayDialect, string>> = { openai: 'OpenAiError', ollama: 'OllamaError' };

export type GatewayErrorStatus = 400 | 401 | 403 | 404 | 413 | 429 | 502 | 503;

/** What an error status means on a gateway route, with the message of its example (per dialect when they differ). */
export interface GatewayRouteError {
  status: GatewayErrorStatus;
  description: string;
  /** What OpenAI's body says besides, appended on the OpenAI routes ("code model_not_found"). */
  openAiNote?: string;
  message: string | Readonly<Record<GatewayDialect, string>>;
  /** OpenAI's `code` and `param` in the example, as the route sets them. */
  code?: string;
  param?: string;
  /** The answer carries Retry-After. */
  retryAfter?: boolean;
  /** The answer names the call's task (it was stored before it failed). */
  taskId?: boolean;
}

const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } };
const TASK_ID = {
  description: 'The Hive task the call became (absent when it was refused before it was stored)',
  schema: { type: 'string', format: 'uuid' },
};

/** The generic meaning of each status on the gateway's routes; a route may say more with a GatewayRouteError. */
const ERRORS: Readonly<Record<GatewayErrorStatus, GatewayRouteError>> = {
  400: {
    status: 400,
    description: 'Invalid request: the message names the field or header at fault',
    openAiNote: 'param names it too',
    message: 'messages: must have at least 1 message',
    param: 'messages',
  },
  401: {
    status: 401,
    description: 'No API key, or an unknown, revoked or expired one',
    openAiNote: 'code invalid_api_key',
    message: 'An API key is required (X-API-Key or Authorization: Bearer)',
  },
  403: {
    status: 403,
    description: "The key's role may not use the gateway: it needs operator or admin",
    openAiNote: 'type permission_error',
    message: 'This needs the operator role; the key has viewer',
  },
  404: {
    status: 404,
    description: 'No enabled agent serves the model',
    openAiNote: 'code model_not_found',
    message: {
      openai: 'The model `llama3:8b` does not exist or no agent serves it',
      ollama: 'model "llama3:8b" not found: no agent serves it',
    },
    code: 'model_not_found',
    param: 'model',
  },
  413: {
    status: 413,
    description: 'The body is larger than BODY_LIMIT',
    message: 'request entity too large',
  },
  429: {
    status: 429,
    description: 'More than THROTTLE_LIMIT requests in THROTTLE_TTL_MS from this key; retry after Retry-After seconds',
    openAiNote: 'type requests, code rate_limit_exceeded',
    message: 'ThrottlerException: Too Many Requests',
    retryAfter: true,
  },
  502: {
    status: 502,
    description:
      "The call failed on every attempt Hive made (TASK_MAX_ATTEMPTS): the message gives the agent's last error; " +
      'its task is failed',
    openAiNote: 'type server_error, code agent_error',
    message: 'The call failed: the agent answered HTTP 500: CUDA error',
    code: 'agent_error',
    taskId: true,
  },
  503: {
    status: 503,
    description:
      'No agent serving the model was free within the queue timeout (x-hive-queue-timeout-ms, else ' +
      'GATEWAY_QUEUE_TIMEOUT_MS): the task is cancelled; retry after Retry-After seconds. Also when this replica ' +
      'is shutting down (retry: another replica answers) or the database is unreachable (no Retry-After then)',
    openAiNote: 'type server_error, code queue_timeout or replica_stopping',
    message: 'No agent serving llama3:8b was free within 120000 ms (x-hive-queue-timeout-ms); try again later',
    code: 'queue_timeout',
    retryAfter: true,
    taskId: true,
  },
};

/**
 * Declares error answers of a gateway route in its dialect's shape, with an example written by the same function
 * as the real answers (gatewayErrorBody). A status alone uses the generic meaning above.
 */
export function ApiGatewayErrors(
  dialect: GatewayDialect,
  ...errors: (GatewayErrorStatus | GatewayRouteError)[]
): MethodDecorator {
  return applyDecorators(
    ...errors.map((entry) => {
      const error = typeof entry === 'number' ? ERRORS[entry] : entry;
      const message = typeof error.message === 'string' ? error.message : error.message[dialect];
      const example = gatewayErrorBody(dialect, error.status, message, { code: error.code, param: error.param });
      const note = dialect === 'openai' && error.openAiNote !== undefined ? ` (OpenAI: ${error.openAiNote})` : '';
      const headers = {
        ...(error.retryAfter === true ? { 'Retry-After': RETRY_AFTER } : {}),
        ...(error.taskId === true ? { 'x-hive-task-id': TASK_ID } : {}),
      };
      return ApiResponse({
        status: error.status,
        description: `${error.description}${note}`,
        content: { 'application/json': { schema: { $ref: getSchemaPath(ERROR_SCHEMA[dialect]) }, example } },
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      });
    }),
  );
}

/**
 * A route that needs an API key of role operator or admin, in X-API-Key or as a bearer token (the openai client
 * sends its apiKey so), as Hive's own routes: so it may answer 401, 403 and 429.
 */
export function ApiGatewayKey(dialect: GatewayDialect): MethodDecorator {
  return applyDecorators(
    ApiSecurity(API_KEY_HEADER_SCHEME),
    ApiBearerAuth(API_KEY_BEARER_SCHEME),
    ApiGatewayErrors(dialect, 401, 403, 429),
  );
}

/** 503 on a route that only reads what Hive knows: the database is unreachable. */
export const DATABASE_UNAVAILABLE: GatewayRouteError = {
  status: 503,
  description: 'The database is unreachable right now; retry shortly',
  message: 'The database is unavailable; try again shortly',
};

/** A route about the served models (a listing, one model, /api/show): it reads what Hive and its agents know. */
export interface GatewayModelsDoc {
  dialect: GatewayDialect;
  /** The component of the request body, for a POST. */
  request?: string;
  /** The component of the answer. */
  answer: string;
  /** What the 200 is. */
  description: string;
  /** Errors beyond the key's and an unreachable database's. */
  errors?: GatewayRouteError[];
}

/** Declares a route about the served models: its body (if any), its answer and its errors. */
export function ApiGatewayModels(doc: GatewayModelsDoc): MethodDecorator {
  return applyDecorators(
    ApiGatewayKey(doc.dialect),
    ...(doc.request === undefined ? [] : [ApiBody({ required: true, schema: { $ref: getSchemaPath(doc.request) } })]),
    ApiResponse({
      status: 200,
      description: doc.description,
      content: { 'application/json': { schema: { $ref: getSchemaPath(doc.answer) } } },
    }),
    ApiGatewayErrors(doc.dialect, DATABASE_UNAVAILABLE, ...(doc.errors ?? [])),
  );
}

/** Hive's headers on every answer of a call (whole or streamed). */
const ANSWER_HEADERS: NonNullable<ApiResponseOptions['headers']> = {
  'x-hive-task-id': {
    description: 'The Hive task the call ran as (GET /api/tasks/{id} shows it)',
    schema: { type: 'string', format: 'uuid' },
  },
  'x-hive-agent': { description: 'The id of the agent that answered', schema: { type: 'string' } },
  'x-hive-queue-ms': {
    description: 'Whole milliseconds the task waited before the answering attempt started',
    schema: { type: 'integer', minimum: 0 },
  },
};

/** What a route that runs a call as a task documents: its body, Hive's request headers and its 200 answers. */
export interface GatewayCallDoc {
  dialect: GatewayDialect;
  /** The component of the request body. */
  request: string;
  /** The component of the whole (JSON) answer, and an example of it. */
  answer: string;
  example: unknown;
  /** What the 200 is. */
  description: string;
  /** When the route streams: its content type and an example of the stream (the description says the rest). */
  stream?: { contentType: string; example: string };
  /** Errors beyond those every call may answer (400, 404, 413, 502, 503 and the key's). */
  errors?: GatewayRouteError[];
}

/** A route that runs a call as a Hive task: body, headers, answers (whole and streamed) and errors. */
export function ApiGatewayCall(doc: GatewayCallDoc): MethodDecorator {
  const content: NonNullable<ApiResponseOptions['content']> = {
    'application/json': { schema: { $ref: getSchemaPath(doc.answer) }, example: doc.example },
    ...(doc.stream === undefined
      ? {}
      : { [doc.stream.contentType]: { schema: { type: 'string' }, example: doc.stream.example } }),
  };
  const overridden = new Set(doc.errors?.map((e) => e.status));
  const generic = ([400, 404, 413, 502, 503] as const).filter((status) => !overridden.has(status));
  return applyDecorators(
    ApiGatewayKey(doc.dialect),
    ApiBody({ required: true, schema: { $ref: getSchemaPath(doc.request) } }),
    ApiHeader({
      name: PRIORITY_HEADER,
      required: false,
      description: "The task's priority, 1 (lowest) to 5: higher runs first. Any other value is refused (400)",
      schema: { type: 'integer', minimum: 1, maximum: 5, default: 3 },
    }),
    ApiHeader({
      name: QUEUE_TIMEOUT_HEADER,
      required: false,
      description:
        'How long the call may wait in the queue for a free agent, in whole milliseconds (0 to 3600000; default ' +
        'GATEWAY_QUEUE_TIMEOUT_MS): still waiting then, its task is cancelled and it is answered 503. Any other ' +
        'value is refused (400)',
      schema: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    }),
    ApiResponse({ status: 200, description: doc.description, headers: ANSWER_HEADERS, content }),
    ApiGatewayErrors(doc.dialect, ...generic, ...(doc.errors ?? [])),
  );
}

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponse } from '../errors/dto/error.response.js';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

interface ErrorDoc {
  description: string;
  error: string;
  message: string | string[];
}

/** The generic meaning of each error status in Hive, with an example body as AllExceptionsFilter writes it. */
const ERRORS: Record<ErrorStatus, ErrorDoc> = {
  400: {
    description: 'Invalid input: the message names every bad field (unknown fields are refused too)',
    error: 'Bad Request',
    message: ['priority must not be greater than 5'],
  },
  401: {
    description: 'No API key, or an unknown, revoked or expired one',
    error: 'Unauthorized',
    message: 'An API key is required (X-API-Key or Authorization: Bearer)',
  },
  403: {
    description: "The key's role may not do this",
    error: 'Forbidden',
    message: 'This needs the admin role; the key has viewer',
  },
  404: { description: 'Not found', error: 'Not Found', message: 'Agent coder-1 is not registered' },
  409: {
    description: 'Conflicts with the current state',
    error: 'Conflict',
    message: 'Agent coder-1 is already registered',
  },
  413: {
    description: 'The body is larger than BODY_LIMIT',
    error: 'Payload Too Large',
    message: 'request entity too large',
  },
  422: {
    description: 'The Idempotency-Key was already used with a different request',
    error: 'Unprocessable Entity',
    message: 'This Idempotency-Key was already used with a different request; use a new key for a new request',
  },
  429: {
    description:
      'More than THROTTLE_LIMIT requests in THROTTLE_TTL_MS from this key (or address); retry after Retry-After seconds',
    error: 'Too Many Requests',
    message: 'ThrottlerException: Too Many Requests',
  },
  503: {
    description: 'The database is unreachable right now, or a concurrent change got in the way; retry shortly',
    error: 'Service Unavailable',
    message: 'The database is unavailable; try again shortly',
  },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before the next request', schema: { type: 'integer', minimum: 0 } },
};

/** What an error status means for one route, and an example of its message there. */
export interface RouteError {
  status: ErrorStatus;
  description: string;
  /** A list for validation failures (one message per bad field), else one string. */
  message?: string | string[];
}

/**
 * Declares error answers of a route (or of every route of a controller) with the common error body. A status
 * alone uses Hive's generic description and example; a RouteError says what it means for this route.
 */
export function ApiErrors(...errors: (ErrorStatus | RouteError)[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map((entry) => {
      const status = typeof entry === 'number' ? entry : entry.status;
      const { description, error, message } = { ...ERRORS[status], ...(typeof entry === 'number' ? {} : entry) };
      return ApiResponse({
        status,
        description,
        type: ErrorResponse,
        example: { statusCode: status, error, message, request_id: '3f6c1f9e-2b1d-4a8e-9d0c-5b7f1e2a4c6d' },
        ...(status === 429 ? { headers: RETRY_AFTER } : {}),
      });
    }),
  );
}

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { describeError, isConflictRollback, isDatabaseUnavailable } from '@hive/database';
import { requestId } from '../logging/logging.module.js';
import { httpErrorFor } from './domain-errors.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  request_id: string | undefined;
}

const reply = (statusCode: number, message: string | string[], requestId: string | undefined): ErrorBody => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  message,
  request_id: requestId,
});

/**
 * One error shape for every route: `{statusCode, error, message, request_id}`. Unexpected errors are logged once
 * with the request id and reach the client as a bare 500 (or 503 when the database is unreachable): never a stack
 * or SQL text.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage & { id?: unknown; originalUrl?: string }>();
    const res = http.getResponse<ServerResponse>();
    // Errors raised before the request logger ran (a body over BODY_LIMIT, say) have no id yet.
    const body = this.toBody(exception, typeof req.id === 'string' ? req.id : requestId(req, res));
    if (body.statusCode >= 500) {
      // The stack goes to the log (never to the client): a 500 is a bug to find.
      this.logger.error(
        `${req.method} ${req.originalUrl ?? req.url} failed (request ${body.request_id}): ${describeError(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter.isHeadersSent(res)) adapter.reply(res, body, body.statusCode);
  }

  private toBody(exception: unknown, requestId: string | undefined): ErrorBody {
    const http = exception instanceof HttpException ? exception : httpErrorFor(exception);
    if (http !== undefined) {
      const response = http.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : http.message;
      return reply(http.getStatus(), message, requestId);
    }
    // The client may retry these, so 503 rather than 500.
    if (isConflictRollback(exception)) return reply(503, 'A concurrent change got in the way; try again', requestId);
    if (isDatabaseUnavailable(exception))
      return reply(503, 'The database is unavailable; try again shortly', requestId);
    return reply(500, 'Internal server error', requestId);
  }
}

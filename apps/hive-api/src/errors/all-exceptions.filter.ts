import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAdapterHost } from '@nestjs/core';
import { describeError } from '@hive/database';
import { requestId } from '../logging/logging.module.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  request_id: string | undefined;
}

/** A transaction PostgreSQL rolled back to resolve a conflict (deadlock, serialization): retrying succeeds. */
const CONFLICT_ROLLBACK = /\((40P01|40001)\)$/;

/** Errors meaning "the database cannot be reached right now": the client may retry, so 503 rather than 500. */
const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|timeout exceeded when trying to connect|Connection terminated|57P0[1-3]|53300/;

function statusText(status: number): string {
  return (HttpStatus[status] ?? 'Error')
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

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
      this.logger.error(`${req.method} ${req.originalUrl ?? req.url} failed (request ${body.request_id}): ${describeError(exception)}`);
    }
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter.isHeadersSent(res)) adapter.reply(res, body, body.statusCode);
  }

  private toBody(exception: unknown, requestId: string | undefined): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : exception.message;
      return { statusCode: status, error: statusText(status), message, request_id: requestId };
    }
    if (CONFLICT_ROLLBACK.test(describeError(exception))) {
      return { statusCode: 503, error: 'Service Unavailable', message: 'A concurrent change got in the way; try again', request_id: requestId };
    }
    if (UNAVAILABLE.test(describeError(exception))) {
      return { statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable; try again shortly', request_id: requestId };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error', request_id: requestId };
  }
}

import { STATUS_CODES } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayMetrics } from '@hive/coordinator';
import { describeError, isConflictRollback, isDatabaseUnavailable, isDataException } from '@hive/database';
import { routeLabel, UNMATCHED_ROUTE } from '@hive/metrics';
import { GatewayError } from '../gateway/gateway-error.js';
import { gatewayErrorBody } from '../gateway/gateway-error-body.js';
import { gatewayDialectOf } from '../gateway/gateway-routes.js';
import { httpErrorFor } from './domain-errors.js';
import { clientErrorStatus, frameworkMessage } from './framework-errors.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  request_id: string | undefined;
}

export const errorBody = (
  statusCode: number,
  message: string | string[],
  requestId: string | undefined,
): ErrorBody => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  message,
  request_id: requestId,
});

/**
 * One error shape for every route of Hive's API: `{statusCode, error, message, request_id}`; the gateway's routes
 * answer in their client dialect's shape instead (gateway-error-body.ts). Unexpected errors are logged once with the
 * request id and reach the client as a bare 500 (or 503 when the database is unreachable): never a stack or SQL
 * text.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly gatewayMetrics: GatewayMetrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const res = http.getResponse<FastifyReply>();
    const body = this.toBody(exception, req.id);
    if (body.statusCode >= 500) {
      // The stack goes to the log (never to the client): a 500 is a bug to find.
      this.logger.error(
        `${req.method} ${req.url} failed (request ${body.request_id}): ${describeError(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(res)) return;
    const dialect = gatewayDialectOf(req.url);
    if (dialect === undefined) {
      adapter.reply(res, body, body.statusCode);
      return;
    }
    const details = exception instanceof GatewayError ? exception.details : {};
    if (details.retryAfterS !== undefined) void res.header('retry-after', String(details.retryAfterS));
    if (details.taskId !== undefined) void res.header('x-hive-task-id', details.taskId);
    const endpoint = routeLabel(req);
    // A path no route matched is not counted: its label would be whatever the client sent.
    if (endpoint !== UNMATCHED_ROUTE) {
      const outcome = details.outcome ?? (body.statusCode >= 500 ? 'failed' : 'rejected');
      this.gatewayMetrics.request(dialect, endpoint, details.model ?? '', outcome);
    }
    adapter.reply(res, gatewayErrorBody(dialect, body.statusCode, body.message, details), body.statusCode);
  }

  private toBody(exception: unknown, requestId: string | undefined): ErrorBody {
    const http = exception instanceof HttpException ? exception : httpErrorFor(exception);
    if (http !== undefined) {
      const response = http.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : http.message;
      return errorBody(http.getStatus(), frameworkMessage(http) ?? message, requestId);
    }
    const clientError = clientErrorStatus(exception);
    if (clientError !== undefined) return errorBody(clientError, STATUS_CODES[clientError] ?? 'Bad Request', requestId);
    if (isDataException(exception)) {
      const reason = exception instanceof Error ? exception.message : String(exception);
      return errorBody(400, `A value of the request cannot be stored: ${reason}`, requestId);
    }
    // The client may retry these, so 503 rather than 500.
    if (isConflictRollback(exception))
      return errorBody(503, 'A concurrent change got in the way; try again', requestId);
    if (isDatabaseUnavailable(exception)) {
      return errorBody(503, 'The database is unavailable; try again shortly', requestId);
    }
    return errorBody(500, 'Internal server error', requestId);
  }
}

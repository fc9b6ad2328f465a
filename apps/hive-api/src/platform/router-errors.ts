import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../errors/all-exceptions.filter.js';
import { stampHeaders } from './security-headers.js';

/**
 * A URL the router cannot decode (`/api/agents/%zz`): 400 in Hive's error shape and headers, as every other error
 * (Fastify's own answer would be its `{code, ...}` body, sent before any hook or exception filter runs).
 */
export function answerRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
  stampHeaders(request, reply);
  void reply.code(status).send(errorBody(status, error.message, request.id));
}

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are too large' },
};
const NOT_HTTP = { status: 400, message: 'The request is not valid HTTP' };

/**
 * A request Node's HTTP parser refused (not HTTP, a target without a leading slash, headers too large): answered
 * in Hive's error shape, with a request id of its own for the log, and the connection closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? NOT_HTTP;
  const body = JSON.stringify(errorBody(status, message, randomUUID()));
  // A response already under way on the socket (pipelined requests) must not be interleaved with this one: Node's
  // own handler makes the same check on the socket's current response (a private field, as there).
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && answering?.headersSent !== true) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { incomingOrNewRequestId } from './request-id.js';

/** The id of the request being served, for every log line written while serving it, however deep the call. */
const requests = new AsyncLocalStorage<string>();

export function currentRequestId(): string | undefined {
  return requests.getStore();
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Hive's HTTP server (Fastify's `serverFactory`): each request gets its id before Fastify sees it, and runs in its
 * context (the answer carries it in x-request-id: platform/security-headers.ts). Node's own server timeouts apply,
 * as they did under Express.
 */
export function serverWithRequestIds(handler: Handler): Server {
  return createServer((req, res) => requests.run(incomingOrNewRequestId(req), handler, req, res));
}

/** Fastify's `genReqId`: the id the server gave the request (a new one for injected requests, which bypass it). */
export function requestIdOf(req: IncomingMessage): string {
  return currentRequestId() ?? incomingOrNewRequestId(req);
}

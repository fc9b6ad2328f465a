/**
 * A real webhook endpoint for tests (node:http, 127.0.0.1, ephemeral port): it records every request exactly as it
 * arrived and answers each with the next queued response, so a test decides which deliveries fail and how.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** hang: never answers (until close()); reset: the connection is reset (RST), as with a crashed receiver. */
export type ReceiverResponse = { status: number; delayMs?: number } | { kind: 'hang' } | { kind: 'reset' };

export interface ReceivedRequest {
  method: string;
  /** The request target as sent: path and query. */
  path: string;
  /** Node's lower-case header names. */
  headers: IncomingHttpHeaders;
  /** The raw body, utf8-decoded and otherwise untouched (what a signature is computed over). */
  body: string;
  /** Date.now() once the whole body had arrived. */
  receivedAt: number;
  answeredWith: number | 'hang' | 'reset';
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hooks`; any path is accepted. */
  readonly url: string;
  /** Every request, in arrival order; requests[i] got the i-th response taken from the queue. */
  readonly requests: readonly ReceivedRequest[];
  /** Queues responses for the next requests, after those already queued. */
  respondWith(...responses: ReceiverResponse[]): void;
  /** The answer once the queue is empty; initially { status: 200 }. */
  setDefault(response: ReceiverResponse): void;
  /** Resolves once `requests` holds n records; rejects after timeoutMs, saying how many arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Stops the server and destroys every open connection, hanging ones included. */
  close(): Promise<void>;
}

const answerOf = (r: ReceiverResponse): ReceivedRequest['answeredWith'] => ('kind' in r ? r.kind : r.status);

export async function startWebhookReceiver(options: { responses?: ReceiverResponse[] } = {}): Promise<WebhookReceiver> {
  const queue: ReceiverResponse[] = [...(options.responses ?? [])];
  let fallback: ReceiverResponse = { status: 200 };
  const requests: ReceivedRequest[] = [];
  const listeners = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const answer = (req: IncomingMessage, res: ServerResponse, response: ReceiverResponse): void => {
    if ('kind' in response) {
      if (response.kind === 'reset') req.socket.resetAndDestroy();
      return; // hang: the socket stays open until the client gives up or close() destroys it
    }
    const send = (): void => {
      if (!res.destroyed) res.writeHead(response.status).end();
    };
    if (response.delayMs === undefined || response.delayMs <= 0) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, response.delayMs);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined); // a client that aborts mid-body is simply not recorded
    req.on('end', () => {
      // Taken and logged in one step, so the queue order and the log order agree.
      const response = queue.shift() ?? fallback;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        answeredWith: answerOf(response),
      });
      for (const listener of [...listeners]) listener();
      answer(req, res, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

  let closing: Promise<void> | undefined;
  return {
    url,
    requests,
    respondWith(...responses) {
      queue.push(...responses);
    },
    setDefault(response) {
      fallback = response;
    },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length < n) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`webhook receiver ${url}: expected ${n} requests within ${timeoutMs} ms, got ${requests.length}`),
          );
        }, timeoutMs);
        listeners.add(check);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive and hanging requests alike
      });
      return closing;
    },
  };
}

import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Exchange {
  status: number;
  body: string;
}

/** The answer was larger than the limit: it was cut off, not read. */
export class AnswerTooLargeError extends Error {
  constructor(limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = 'AnswerTooLargeError';
  }
}

export interface ExchangeOptions {
  method: 'GET' | 'POST';
  /** JSON, sent with its length. */
  body?: unknown;
  /** The keep-alive pool of the agent (an https.Agent for https: URLs). */
  agent: HttpAgent;
  signal: AbortSignal;
  maxBytes: number;
}

/**
 * One HTTP request and its whole answer as text, on node:http directly: no redirects followed, no proxy, any status
 * returned as it is. It rejects with the socket's error, AnswerTooLargeError, or the signal's abort.
 */
export function exchange(url: string, options: ExchangeOptions): Promise<Exchange> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: options.method, headers, agent: options.agent, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy(new AnswerTooLargeError(options.maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      // A connection that dies mid-answer may close the response without an error (settling twice is harmless).
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('the connection closed mid-answer'), { code: 'ECONNRESET' }));
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

import {
  request as httpRequest,
  type Agent as HttpAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';

export interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer whose body is read line by line as it arrives (NDJSON, server-sent events). */
export interface StreamedExchange {
  status: number;
  headers: IncomingHttpHeaders;
  lines: AsyncIterable<string>;
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
  /** Extra request headers (an agent's Authorization). */
  headers?: Readonly<Record<string, string>>;
  /** The keep-alive pool of the agent (an https.Agent for https: URLs). */
  agent: HttpAgent;
  signal: AbortSignal;
  maxBytes: number;
}

/** Sends the request; resolves with the answer once its headers arrived. */
function send(url: string, options: ExchangeOptions): Promise<IncomingMessage> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method, headers, agent: options.agent, signal: options.signal },
      (res) => {
        // A connection that dies mid-answer may close the response without an error.
        res.on('close', () => {
          if (!res.complete)
            res.destroy(Object.assign(new Error('the connection closed mid-answer'), { code: 'ECONNRESET' }));
        });
        resolve(res);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Counts the bytes of an answer (decoded to text or not) and cuts it off past the limit. */
function limitSize(res: IncomingMessage, maxBytes: number): void {
  let size = 0;
  res.on('data', (chunk: Buffer | string) => {
    size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (size > maxBytes) res.destroy(new AnswerTooLargeError(maxBytes));
  });
}

/**
 * One HTTP request and its whole answer as text, on node:http directly: no redirects followed, no proxy, any status
 * returned as it is. It rejects with the socket's error, AnswerTooLargeError, or the signal's abort.
 */
export async function exchange(url: string, options: ExchangeOptions): Promise<Exchange> {
  const res = await send(url, options);
  limitSize(res, options.maxBytes);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/**
 * One HTTP request whose answer is read line by line as it arrives, for streamed answers; the same rules as
 * `exchange`, the size limit applying to the whole answer. Iterating the lines rejects as `exchange` would.
 */
export async function streamExchange(url: string, options: ExchangeOptions): Promise<StreamedExchange> {
  const res = await send(url, options);
  limitSize(res, options.maxBytes);
  res.setEncoding('utf8');
  // The iterator is made at once: it buffers the lines that arrive before the caller starts reading them.
  const lines = createInterface({ input: res, crlfDelay: Infinity })[Symbol.asyncIterator]();
  // readline ends quietly when its input is destroyed: the error must reach whoever iterates the lines.
  let failure: Error | undefined;
  res.on('error', (error) => (failure = error));
  async function* read(): AsyncGenerator<string> {
    try {
      for await (const line of { [Symbol.asyncIterator]: () => lines }) yield line;
      if (failure !== undefined) throw failure;
      if (!res.complete) throw Object.assign(new Error('the connection closed mid-answer'), { code: 'ECONNRESET' });
    } finally {
      // A reader that stops early (an error line) leaves the rest unread: the socket cannot be reused.
      if (!res.complete) res.destroy();
    }
  }
  return { status: res.statusCode ?? 0, headers: res.headers, lines: read() };
}

/** Small node:http helpers: answering, reading a body, and waits that end when the client goes away. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return; // the client went away; nothing to answer
  res.writeHead(status, { 'Content-Type': JSON_TYPE, ...headers }).end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

/** Sends raw bytes under a 200 (a truncated body, on purpose). */
export function sendRaw(res: ServerResponse, contentType: string, text: string): void {
  if (res.destroyed) return;
  res.writeHead(200, { 'Content-Type': contentType }).end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves true after ms, or false as soon as the response is closed (so no timer outlives a dead request). */
export function wait(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/** Resolves true once `gate` settles, or false as soon as the response is closed. */
export function waitFor(gate: Promise<unknown>, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    res.once('close', onClose);
    const open = (): void => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    };
    gate.then(open, open);
  });
}

/**
 * Writes a streamed answer: `chunks` with `pauseMs` between them, then `end()` (computed last, so its timings include
 * the stream). A `failure` stops the stream after `afterChunks` chunks with its error line instead of `end()`.
 */
export async function writeStream(
  res: ServerResponse,
  chunks: readonly string[],
  pauseMs: number,
  end: () => string,
  failure?: { afterChunks: number; line: string },
): Promise<void> {
  const sent = failure === undefined ? chunks : chunks.slice(0, Math.max(failure.afterChunks, 0));
  for (const [index, chunk] of sent.entries()) {
    if (index > 0 && !(await wait(pauseMs, res))) return;
    if (res.destroyed) return;
    res.write(chunk);
  }
  if (!res.destroyed) res.end(failure === undefined ? end() : failure.line);
}

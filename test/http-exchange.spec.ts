import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import {
  AnswerTooLargeError,
  exchange,
  streamExchange,
  type Destination,
  type ExchangeOptions,
} from '../libs/coordinator/src/client/http-exchange.js';
import { waitUntil } from './support/poll.js';

/** What the server writes for a path: chunks (each flushed on its own, a pause between), then how it ends. */
interface Script {
  chunks: (string | Buffer)[];
  end: 'end' | 'destroy';
  status?: number;
  /** How long the headers are held back (cut short when the connection closes). */
  holdMs?: number;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Hive's HTTP exchange with agents against a real server that writes each chunk as told: lines cut anywhere by the
 * network, the size limit, an answer cut short, an abort, a base path.
 */
describe('HTTP exchange (real HTTP)', () => {
  let server: Server;
  let pool: Pool;
  let script: Script;
  const seen: { path: string; body: string }[] = [];
  /** The paths of answers whose connection closed before they were written whole. */
  const cutPaths: string[] = [];
  const options = (extra: Partial<ExchangeOptions> = {}): ExchangeOptions => ({
    method: 'POST',
    body: { q: 1 },
    signal: AbortSignal.timeout(5_000),
    maxBytes: 1_000,
    ...extra,
  });
  const at = (basePath = ''): Destination => ({ pool, basePath });

  async function play(res: ServerResponse, path: string): Promise<void> {
    res.on('close', () => {
      if (!res.writableFinished) cutPaths.push(path);
    });
    const { holdMs } = script;
    if (holdMs !== undefined) {
      await new Promise<void>((resolve) => {
        const held = setTimeout(resolve, holdMs);
        res.once('close', () => {
          clearTimeout(held);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    res.writeHead(script.status ?? 200, { 'content-type': 'application/x-ndjson', 'retry-after': '7' });
    for (const chunk of script.chunks) {
      if (res.destroyed) return;
      res.write(chunk);
      await pause();
    }
    if (script.end === 'end') res.end();
    else res.destroy();
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body });
        void play(res, req.url ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 2 });
  });
  afterAll(async () => {
    await pool.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    cutPaths.length = 0;
  });

  async function linesOf(exchangeOptions = options()): Promise<string[]> {
    const res = await streamExchange(at(), '/api/chat', exchangeOptions);
    const lines: string[] = [];
    for await (const line of res.lines) lines.push(line);
    return lines;
  }

  it('splits lines on LF, CRLF and a lone CR wherever the chunks are cut, a last line without its end included', async () => {
    script = { chunks: ['{"a":1}\r', '\n{"b":', '2}\n\n{"c":3}\r{"d"', ':4}'], end: 'end' };
    await expect(linesOf()).resolves.toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}', '{"d":4}']);
  });

  it('decodes a character whose bytes are split between chunks', async () => {
    const bytes = Buffer.from('é\n', 'utf8');
    script = { chunks: [bytes.subarray(0, 1), bytes.subarray(1)], end: 'end' };
    await expect(linesOf()).resolves.toEqual(['é']);
  });

  it('sends the JSON body to the base path of the endpoint and returns any status whole, with its headers', async () => {
    script = { chunks: ['{"error":"busy"}'], end: 'end', status: 503 };
    const res = await exchange(at('/ollama'), '/api/chat', options());
    expect(res).toMatchObject({ status: 503, body: '{"error":"busy"}', headers: { 'retry-after': '7' } });
    expect(seen).toEqual([{ path: '/ollama/api/chat', body: '{"q":1}' }]);
  });

  it('cuts off an answer larger than the limit, whole or streamed', async () => {
    script = { chunks: ['x'.repeat(600), `${'y'.repeat(600)}\n`], end: 'end' };
    await expect(exchange(at(), '/', options())).rejects.toBeInstanceOf(AnswerTooLargeError);
    await expect(linesOf()).rejects.toBeInstanceOf(AnswerTooLargeError);
  });

  it('rejects when the connection closes before the answer has ended', async () => {
    script = { chunks: ['{"a":1}\n{"b"'], end: 'destroy' };
    const cut = { code: 'UND_ERR_SOCKET' };
    await expect(exchange(at(), '/', options())).rejects.toMatchObject(cut);
    await expect(linesOf()).rejects.toMatchObject(cut);
  });

  it('rejects with the abort when the signal fires mid-answer, and closes the connection', async () => {
    script = { chunks: ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n'], end: 'end' };
    const controller = new AbortController();
    const res = await streamExchange(at(), '/', options({ signal: controller.signal }));
    const lines: string[] = [];
    const reading = (async () => {
      for await (const line of res.lines) {
        lines.push(line);
        controller.abort(new Error('enough'));
      }
    })();
    await expect(reading).rejects.toThrow('enough');
    expect(lines).toEqual(['{"a":1}']);
    // The server sees its answer cut off: the connection is closed, not left to carry the rest.
    await waitUntil(() => cutPaths.length === 1, {
      describe: 'the server to see its answer cut off',
      state: () => cutPaths,
    });
  });

  it('rejects with the abort before the answer came, at once even while the request waits for a connection', async () => {
    script = { chunks: ['{}'], end: 'end', holdMs: 10_000 };
    const held = new AbortController();
    // The pool's two connections, both waiting for headers.
    const busy = [1, 2].map(() => exchange(at(), '/held', options({ signal: held.signal })));
    await waitUntil(() => seen.length === 2, { describe: 'both requests to arrive', state: () => seen.length });
    const queued = new AbortController();
    const waiting = exchange(at(), '/queued', options({ signal: queued.signal }));
    queued.abort(new Error('given up while queued'));
    await expect(waiting).rejects.toThrow('given up while queued');
    held.abort(new Error('given up before the headers'));
    for (const call of busy) await expect(call).rejects.toThrow('given up before the headers');
    const dropped = () => cutPaths.filter((path) => path === '/held').length;
    await waitUntil(() => dropped() === 2, { describe: 'the server to see both requests dropped', state: dropped });
    const aborted = AbortSignal.abort(new Error('aborted before it was sent'));
    await expect(exchange(at(), '/unsent', options({ signal: aborted }))).rejects.toThrow('aborted before it was sent');
    // Neither the request given up in the queue nor the one aborted beforehand reached the server.
    expect(seen.map(({ path }) => path)).toEqual(['/held', '/held']);
  });
});

import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastify } from 'fastify';
import { captureLogs } from '../../../../test/support/log-capture.js';
import { PinoNestLogger } from './pino-nest-logger.js';
import { currentRequestId, requestIdOf, serverWithRequestIds } from './request-context.js';

describe('serverWithRequestIds', () => {
  const logs = captureLogs('info');
  const logger = new PinoNestLogger(logs.logger);
  // Each request logs after some asynchronous work, so that requests overlap, and answers with the id it sees.
  const server = serverWithRequestIds((req, res) => {
    void (async () => {
      await sleep(Number(req.url?.slice(1) ?? 0));
      logger.log(`served ${req.url}`, 'Test');
      res.setHeader('x-request-id', currentRequestId() ?? 'none');
      res.end();
    })();
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("binds the request's id to the lines logged while serving it", async () => {
    const answers = await Promise.all(
      [30, 10, 20].map(async (ms) => {
        const res = await fetch(`${url}/${ms}`);
        return { path: `/${ms}`, id: res.headers.get('x-request-id') };
      }),
    );
    for (const { path, id } of answers) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(logs.lines.filter((l) => l.msg === `served ${path}`)).toEqual([
        expect.objectContaining({ request_id: id, context: 'Test' }),
      ]);
    }
    expect(new Set(answers.map((a) => a.id)).size).toBe(3);
  });

  it('keeps a well-formed incoming x-request-id and replaces a malformed one', async () => {
    const kept = await fetch(`${url}/1`, { headers: { 'x-request-id': 'trace-42' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42');
    const replaced = await fetch(`${url}/2`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs no request id outside a request', () => {
    logger.log('outside', 'Test');
    expect(logs.lines.find((l) => l.msg === 'outside')).not.toHaveProperty('request_id');
  });
});

describe('a Fastify app on serverWithRequestIds', () => {
  const app = fastify({ serverFactory: serverWithRequestIds, genReqId: requestIdOf });
  app.post('/echo-id', (request) => ({ id: request.id, seen: currentRequestId() ?? 'none' }));
  let port = 0;

  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  /** Sends the head at once and the body `delayMs` later, as a slow client or a large body arrives. */
  const postLate = (agent: Agent, delayMs: number) =>
    new Promise<{ id: string; seen: string }>((resolve, reject) => {
      const headers = { 'content-type': 'application/json' };
      const req = httpRequest({ port, agent, method: 'POST', path: '/echo-id', headers });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as { id: string; seen: string }));
      });
      req.on('error', reject);
      req.flushHeaders();
      void sleep(delayMs).then(() => req.end('{"a":1}'));
    });

  it('serves each handler in its own request context, even when the body arrives after the head', async () => {
    // One kept-alive connection: the socket's events run in one context for all its requests.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = [];
      for (const delayMs of [50, 0, 50]) answers.push(await postLate(agent, delayMs));
      for (const { id, seen } of answers) expect(seen).toBe(id);
      expect(new Set(answers.map((a) => a.id)).size).toBe(3);
    } finally {
      agent.destroy();
    }
  });
});

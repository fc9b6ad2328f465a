import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureLogs } from '../../../../test/support/log-capture.js';
import { PinoNestLogger } from './pino-nest-logger.js';
import { currentRequestId, serverWithRequestIds } from './request-context.js';

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

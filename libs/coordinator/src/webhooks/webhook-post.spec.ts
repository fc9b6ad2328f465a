import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeFailure, postWebhook } from './webhook-post.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server answering with `handler`; what it received is in `received`. */
async function serve(handler: Handler): Promise<{ url: string; received: string[]; server: Server }> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      handler(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

const headers = { 'content-type': 'application/json' };
const options = () => ({ timeoutMs: 2_000, signal: new AbortController().signal });

describe('postWebhook', () => {
  const servers: Server[] = [];
  const start = async (handler: Handler) => {
    const s = await serve(handler);
    servers.push(s.server);
    return s;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('delivers on a 2xx, whatever the answer holds (its body is read only in part)', async () => {
    const { url, received } = await start((_, res) => res.writeHead(202).end('x'.repeat(1_000_000)));
    await expect(postWebhook(url, headers, '{"a":1}', options())).resolves.toEqual({ kind: 'delivered', status: 202 });
    expect(received).toEqual(['POST /hook {"a":1}']);
  });

  it('fails on another status, and does not follow a redirect', async () => {
    const target = await start((_, res) => res.writeHead(200).end());
    const { url } = await start((_, res) => res.writeHead(307, { location: target.url }).end());
    await expect(postWebhook(url, headers, '{}', options())).resolves.toEqual({
      kind: 'failed',
      status: 307,
      error: 'HTTP 307 (redirects are not followed)',
    });
    expect(target.received).toEqual([]);
    const failing = await start((_, res) => res.writeHead(500).end('oops'));
    await expect(postWebhook(failing.url, headers, '{}', options())).resolves.toEqual({
      kind: 'failed',
      status: 500,
      error: 'HTTP 500',
    });
  });

  it('fails without a status when no answer comes in time', async () => {
    const { url } = await start(() => undefined);
    await expect(postWebhook(url, headers, '{}', { ...options(), timeoutMs: 200 })).resolves.toEqual({
      kind: 'failed',
      status: null,
      error: 'no answer within 200 ms',
    });
  });

  it('fails without a status when the connection is refused, naming the network error', async () => {
    const { url, server } = await start(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const outcome = await postWebhook(url, headers, '{}', options());
    expect(outcome).toMatchObject({ kind: 'failed', status: null });
    expect(outcome.kind === 'failed' && outcome.error).toMatch(/ECONNREFUSED/);
  });

  it('is interrupted, not failed, when the caller aborts it', async () => {
    const { url } = await start(() => undefined);
    const controller = new AbortController();
    const posting = postWebhook(url, headers, '{}', { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(posting).resolves.toEqual({ kind: 'interrupted' });
  });

  it('keeps an error text short', () => {
    expect(describeFailure(new Error('e'.repeat(1_000)))).toHaveLength(300);
  });

  it('calls no host off the public internet when told so: neither a literal address nor a name resolving to one', async () => {
    const { url, received } = await start((_, res) => res.writeHead(200).end());
    const local = new URL(url);
    for (const target of [url, `http://localhost:${local.port}/hook`, `http://[::ffff:127.0.0.1]:${local.port}/hook`]) {
      const outcome = await postWebhook(target, headers, '{}', { ...options(), publicOnly: true });
      expect(outcome).toMatchObject({ kind: 'failed', status: null });
      expect(outcome.kind === 'failed' && outcome.error).toMatch(/private, loopback or link-local.*WEBHOOK_ALLOWLIST/);
    }
    expect(received).toEqual([]);
    // The same receiver, with the check off (an allowlist names it): delivered.
    await expect(postWebhook(url, headers, '{}', options())).resolves.toEqual({ kind: 'delivered', status: 200 });
  });
});

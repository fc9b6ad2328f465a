import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadConfig } from '@hive/config';
import { AgentHttp } from '../libs/coordinator/src/protocols/agent-http.service.js';
import type { AgentTarget } from '../libs/coordinator/src/protocols/protocol-adapter.js';
import { waitUntil } from './support/poll.js';

/**
 * AgentHttp's pools against a real server that notes each request and each connection: where requests go and with
 * which credentials, and that a pool replaced or forgotten closes its connections without cutting a call under way.
 */
describe('AgentHttp pools (real HTTP)', () => {
  const http = new AgentHttp(loadConfig({ NODE_ENV: 'test', HTTP_TIMEOUT_MS: '2000' }));
  let server: Server;
  let port = 0;
  const seen: { path: string; authorization: string | undefined }[] = [];
  const connections = new Set<Socket>();
  /** Connections opened since the test began. */
  let opened = 0;
  /** Answers held back until released (the path /slow). */
  const held: (() => void)[] = [];

  const target = (fields: Partial<AgentTarget> = {}): AgentTarget => ({
    id: 'pool-agent',
    endpoint: `http://127.0.0.1:${port}`,
    kind: 'ollama',
    max_concurrent: 2,
    ...fields,
  });
  const get = (agent: AgentTarget, path = '/api/tags') =>
    http.send(agent, path, { method: 'GET', signal: AbortSignal.timeout(5_000) });
  const openConnections = (n: number) =>
    waitUntil(() => connections.size === n, { describe: `${n} open connection(s)`, state: () => connections.size });

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[]}');
      if (req.url?.endsWith('/slow') === true) held.push(answer);
      else answer();
    });
    server.on('connection', (socket: Socket) => {
      connections.add(socket);
      opened += 1;
      socket.on('close', () => connections.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const release of held.splice(0)) release();
    http.forget('pool-agent');
    await openConnections(0);
    seen.length = 0;
    opened = 0;
  });
  afterAll(async () => {
    await http.onApplicationShutdown();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends to the endpoint's path the agent's key as a bearer token, else the credentials its URL holds", async () => {
    const endpoint = `http://hive%20user:p%40ss@127.0.0.1:${port}/ollama/`;
    await get(target({ endpoint }));
    await get(target({ endpoint, apiKey: 'agent-key' }));
    expect(seen).toEqual([
      { path: '/ollama/api/tags', authorization: `Basic ${Buffer.from('hive user:p@ss').toString('base64')}` },
      { path: '/ollama/api/tags', authorization: 'Bearer agent-key' },
    ]);
  });

  it('keeps connections alive between calls', async () => {
    for (let i = 0; i < 10; i++) await expect(get(target())).resolves.toMatchObject({ status: 200 });
    // One after another, a call may go out on a second connection while the first is being freed: not on ten.
    expect(opened).toBeLessThanOrEqual(2);
    expect(connections.size).toBe(opened);
  });

  it('replaces the pool when max_concurrent changes, closing the old one once its call has ended', async () => {
    const slow = get(target(), '/slow');
    await waitUntil(() => held.length === 1, { describe: 'the slow call to arrive' });
    await expect(get(target({ max_concurrent: 4 }))).resolves.toMatchObject({ status: 200 });
    expect(connections.size).toBe(2);
    held.shift()?.();
    await expect(slow).resolves.toMatchObject({ status: 200, body: '{"models":[]}' });
    await openConnections(1);
  });

  it('forgets an agent: idle connections close at once, a busy one once its call has ended', async () => {
    const slow = get(target(), '/slow');
    await waitUntil(() => held.length === 1, { describe: 'the slow call to arrive' });
    await get(target()); // on a second connection, idle once answered
    expect(connections.size).toBe(2);
    http.forget('pool-agent');
    await openConnections(1);
    held.shift()?.();
    await expect(slow).resolves.toMatchObject({ status: 200 });
    await openConnections(0);
  });
});

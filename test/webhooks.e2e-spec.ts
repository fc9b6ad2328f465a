import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { HiveApi, ISO_8601, messages, type SubmittedTask, type Task } from './support/api.js';
import { closeAll, FAST_COORDINATOR_ENV, suiteFixture } from './support/hive-fixture.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { message, stopHiveProcesses } from './support/process-control.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import {
  startWebhookReceiver,
  type ReceivedRequest,
  type ReceiverResponse,
  type WebhookReceiver,
} from './support/webhook-receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
/** Signed webhooks to 127.0.0.1 only, retried after 100–200 ms at first. */
const WEBHOOK_ENV = {
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_ALLOWLIST: '127.0.0.1/32',
  WEBHOOK_RETRY_BASE_MS: '200',
  WEBHOOK_TIMEOUT_MS: '5000',
};

interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  finished_at: string | null;
}
/** A task as GET /api/tasks/:id shows it, with its callback and webhook delivery. */
type TaskWithWebhook = Task & { callback_url: string | null; webhook: WebhookState | null };

interface Payload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The three Standard Webhooks headers as received (the verifier wants strings). */
function signatureHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const pick = (name: string) => {
    const value = headers[name];
    if (typeof value !== 'string') throw new Error(`header ${name} missing: ${JSON.stringify(headers)}`);
    return value;
  };
  return Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, pick(h)]));
}

/** The body of a received webhook, verified by the standardwebhooks package (throws when the signature is wrong). */
const verified = (request: ReceivedRequest | undefined): Payload => {
  if (request === undefined) throw new Error('no request received');
  return new Webhook(SECRET).verify(request.body, signatureHeaders(request.headers)) as Payload;
};

/** The task without its `webhook` field: what a webhook's `data` holds. */
const withoutWebhook = (task: TaskWithWebhook): Record<string, unknown> =>
  Object.fromEntries(Object.entries(task).filter(([key]) => key !== 'webhook'));

/** Webhooks from an in-process Hive on a real PostgreSQL, a real agent server and a real receiver. */

/** Registers `agent` for type hooks on `api`'s Hive and submits a task whose webhook goes to `hook`; its id. */
async function taskWithCallback(api: HiveApi, agent: OllamaAgent, hook: WebhookReceiver): Promise<string> {
  await api.registerAgent({ id: 'hooks-1', endpoint: agent.url, specialty: 'hooks' });
  const { id } = await api.expect<SubmittedTask>(201, 'POST', '/api/tasks', {
    type: 'hooks',
    context: { prompt: 'x' },
    callback_url: hook.url,
  });
  return id;
}

describe('webhooks (in-process Hive, real PostgreSQL, real agent and receiver)', () => {
  const world = suiteFixture(WEBHOOK_ENV);
  let api: HiveApi;
  let receivers: WebhookReceiver[] = [];
  let proxies: TcpProxy[] = [];

  const receiver = async (responses: ReceiverResponse[] = []): Promise<WebhookReceiver> => {
    const started = await startWebhookReceiver({ responses });
    receivers.push(started);
    return started;
  };
  const submit = async (callbackUrl: string, task: Record<string, unknown> = {}): Promise<string> => {
    const body = { type: 'hooks', context: { prompt: 'hello' }, callback_url: callbackUrl, ...task };
    return (await api.expect<SubmittedTask>(201, 'POST', '/api/tasks', body)).id;
  };
  const getTask = (id: string) => api.expect<TaskWithWebhook>(200, 'GET', `/api/tasks/${id}`);
  const waitForWebhook = (id: string, done: (webhook: WebhookState) => boolean, describe: string) =>
    pollUntil(
      () => getTask(id),
      (task) => task.webhook !== null && done(task.webhook),
      { describe: `task ${id}: webhook ${describe}`, timeoutMs: 20_000 },
    );

  beforeAll(async () => {
    api = world().api;
    const agent = await world().agents.start();
    await api.registerAgent({ id: 'hooks-1', endpoint: agent.url, specialty: 'hooks' });
    // Disabled: its tasks stay pending until cancelled.
    await api.registerAgent({ id: 'parked-1', endpoint: agent.url, specialty: 'parked', enabled: false });
  });
  afterEach(async () => {
    const [closingReceivers, closingProxies] = [receivers, proxies];
    [receivers, proxies] = [[], []];
    await closeAll([...closingReceivers.map((r) => () => r.close()), ...closingProxies.map((p) => () => p.close())]);
  });

  it('POSTs a completed task once, signed (verified by the standardwebhooks package), with the task as GET shows it', async () => {
    const hook = await receiver();
    const id = await submit(`${hook.url}/done?source=hive`);

    const task = await waitForWebhook(id, (w) => w.status === 'delivered', 'delivered');
    expect(task.status).toBe('completed');
    expect(task.webhook).toEqual({
      status: 'delivered',
      attempts: 1,
      last_status: 200,
      last_error: null,
      next_attempt_at: null,
      finished_at: expect.stringMatching(ISO_8601) as unknown,
    });
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hooks/done?source=hive', answeredWith: 200 });
    const payload = verified(request);
    expect(payload.type).toBe('task.completed');
    expect(payload.timestamp).toMatch(ISO_8601);
    expect(payload.data).toEqual(withoutWebhook(task));
    expect(payload.data).not.toHaveProperty('webhook');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': expect.stringMatching(/^msg_[0-9a-f-]{36}$/) as unknown,
      'webhook-timestamp': expect.stringMatching(/^\d+$/) as unknown,
      'webhook-signature': expect.stringMatching(/^v1,/) as unknown,
      'user-agent': expect.stringMatching(/^Hive-Webhooks\/\d+\.\d+\.\d+/) as unknown,
    });
  });

  it('retries after a 500 with the same webhook-id and a fresh signature: delivered at the second attempt', async () => {
    const hook = await receiver([{ status: 500 }]);
    const id = await submit(hook.url);

    const task = await waitForWebhook(id, (w) => w.status === 'delivered', 'delivered');
    expect(task.webhook).toMatchObject({ status: 'delivered', attempts: 2, last_status: 200, last_error: null });
    expect(hook.requests.map((r) => r.answeredWith)).toEqual([500, 200]);
    const [first, second] = hook.requests;
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(verified(first)).toMatchObject({ type: 'task.completed', data: withoutWebhook(task) });
    expect(verified(second)).toMatchObject({ type: 'task.completed', data: withoutWebhook(task) });
    expect(Number(second?.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(
      Number(first?.headers['webhook-timestamp']),
    );
    // The 500 was recorded as a failed attempt with a retry to come.
    const failed = world().hive.logs.lines.filter((l) => l.taskId === id && l.status === 500);
    expect(failed).toEqual([
      expect.objectContaining({ attempt: 1, error: 'HTTP 500', retryInMs: expect.any(Number) as unknown }),
    ]);
  });

  it('keeps a delivery pending while the receiver answers 503, showing the last answer and the next attempt', async () => {
    const hook = await receiver();
    hook.setDefault({ status: 503 });
    const id = await submit(hook.url);

    const pending = await waitForWebhook(
      id,
      (w) => w.status === 'pending' && w.last_status === 503 && w.attempts >= 2,
      'pending after two 503s',
    );
    expect(pending.webhook).toMatchObject({ last_error: 'HTTP 503', finished_at: null });
    expect(pending.webhook?.next_attempt_at).toMatch(ISO_8601);

    hook.setDefault({ status: 204 });
    const task = await waitForWebhook(id, (w) => w.status === 'delivered', 'delivered');
    expect(task.webhook).toMatchObject({ status: 'delivered', last_status: 204, attempts: hook.requests.length });
    expect(hook.requests.at(-1)?.answeredWith).toBe(204);
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(hook.requests.every((r) => verified(r).type === 'task.completed')).toBe(true);
  });

  it('announces a failed task as task.failed and a cancelled one as task.cancelled', async () => {
    const hook = await receiver();
    const agent = await world().agents.start({ behavior: { kind: 'error', status: 400, message: 'bad prompt' } });
    await api.registerAgent({ id: 'failing-1', endpoint: agent.url, specialty: 'failing' });
    const failedId = await submit(hook.url, { type: 'failing', max_attempts: 1 });
    const cancelledId = await submit(hook.url, { type: 'parked' });
    expect((await api.cancelTask(cancelledId)).status).toBe(200);

    const failed = await waitForWebhook(failedId, (w) => w.status === 'delivered', 'delivered');
    const cancelled = await waitForWebhook(cancelledId, (w) => w.status === 'delivered', 'delivered');
    expect([failed.status, cancelled.status]).toEqual(['failed', 'cancelled']);
    const payloads = hook.requests.map((r) => verified(r));
    expect(payloads).toHaveLength(2);
    const byTask = new Map(payloads.map((p) => [p.data.id, p]));
    expect(byTask.get(failedId)).toMatchObject({ type: 'task.failed', data: withoutWebhook(failed) });
    expect(byTask.get(cancelledId)).toMatchObject({ type: 'task.cancelled', data: withoutWebhook(cancelled) });
  });

  it('refuses a callback_url outside WEBHOOK_ALLOWLIST or not http(s), alone or at its position in a batch', async () => {
    const before = (await api.listTasks({ limit: 1 })).total;
    const refused = async (path: '' | '/batch', body: unknown) => {
      const res = await api.request('POST', `/api/tasks${path}`, body);
      return { status: res.status, messages: messages(res.body) };
    };
    const task = (callback_url: string) => ({ type: 'hooks', context: { prompt: 'x' }, callback_url });

    expect(await refused('', task('http://example.com/hook'))).toEqual({
      status: 400,
      messages: ['callback_url host example.com is not in WEBHOOK_ALLOWLIST'],
    });
    expect(await refused('', task('http://10.0.0.1/hook'))).toEqual({
      status: 400,
      messages: ['callback_url host 10.0.0.1 is not in WEBHOOK_ALLOWLIST'],
    });
    const ftp = await refused('', task('ftp://127.0.0.1/hook'));
    expect(ftp.status).toBe(400);
    expect(ftp.messages).toEqual([expect.stringMatching(/^callback_url must be an http:\/\/ or https:\/\/ URL/)]);
    const batch = await refused('/batch', { tasks: [task('http://127.0.0.1/ok'), task('https://example.com/hook')] });
    expect(batch).toEqual({
      status: 400,
      messages: ['tasks.1.callback_url host example.com is not in WEBHOOK_ALLOWLIST'],
    });
    const ftpInBatch = await refused('/batch', { tasks: [task('http://127.0.0.1/ok'), task('ftp://127.0.0.1/x')] });
    expect(ftpInBatch.status).toBe(400);
    expect(ftpInBatch.messages).toEqual([expect.stringContaining('tasks.1.callback_url')]);
    expect((await api.listTasks({ limit: 1 })).total).toBe(before); // nothing was stored
  });

  it('delivers to a receiver that was unreachable once it is back', async () => {
    const hook = await receiver();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(hook.url).port) });
    proxies.push(proxy);
    proxy.setMode('refuse');
    const id = await submit(proxy.rewrite(hook.url));

    // An attempt counts from when it begins: at two, the second may still be under way (and reach the receiver once
    // it is back). A third begun means two ended failing.
    const down = await waitForWebhook(id, (w) => w.attempts >= 3 && w.last_error !== null, 'failed twice');
    expect(down.webhook).toMatchObject({ status: 'pending', last_status: null, finished_at: null });
    expect(down.webhook?.last_error).not.toMatch(/HTTP/);
    expect(down.webhook?.next_attempt_at).toMatch(ISO_8601);
    expect(hook.requests).toEqual([]);

    proxy.setMode('forward');
    const task = await waitForWebhook(id, (w) => w.status === 'delivered', 'delivered');
    expect(task.webhook).toMatchObject({ status: 'delivered', last_status: 200, last_error: null });
    // Delivered by the attempt under way when it came back, or a later one.
    expect(task.webhook?.attempts).toBeGreaterThanOrEqual(down.webhook?.attempts ?? Infinity);
    expect(hook.requests).toHaveLength(1);
    expect(verified(hook.requests[0])).toMatchObject({ type: 'task.completed', data: withoutWebhook(task) });
  });

  it('counts deliveries in /api/metrics and reports the backlog', async () => {
    const hook = await receiver([{ status: 500 }]);
    const id = await submit(hook.url);
    await waitForWebhook(id, (w) => w.status === 'delivered', 'delivered');

    const samples = parseSamples(await scrape(world().hive.url));
    expect(sampleValue(samples, 'hive_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'hive_webhook_deliveries_total', { outcome: 'retried' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'hive_webhook_delivery_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'hive_webhook_backlog')).toEqual(expect.any(Number));
    expect(sampleValue(samples, 'hive_webhook_oldest_pending_seconds')).toEqual(expect.any(Number));
  });
});

describe('webhooks without an allowlist: the public internet only (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture({ WEBHOOK_SECRET: SECRET });

  beforeAll(async () => {
    const agent = await world().agents.start();
    await world().api.registerAgent({ id: 'public-1', endpoint: agent.url, specialty: 'public' });
  });

  it('refuses a literal private, loopback or link-local address, localhost, and a URL with a password', async () => {
    const refusals: [string, string][] = [
      [
        'http://127.0.0.1:9/hook',
        'callback_url host 127.0.0.1 is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it',
      ],
      [
        'http://169.254.169.254/latest',
        'callback_url host 169.254.169.254 is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it',
      ],
      [
        'http://10.1.2.3/hook',
        'callback_url host 10.1.2.3 is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it',
      ],
      [
        'http://[::1]:9/hook',
        'callback_url host ::1 is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it',
      ],
      [
        'http://localhost:9/hook',
        'callback_url host localhost is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it',
      ],
      ['https://user:secret@hooks.example.com/in', 'callback_url must be an http:// or https:// URL'],
    ];
    for (const [url, expected] of refusals) {
      const res = await world().api.request('POST', '/api/tasks', { type: 'public', callback_url: url });
      expect({ url, status: res.status, messages: messages(res.body) }).toEqual({
        url,
        status: 400,
        messages: [expected],
      });
    }
    await expect(world().api.tasksOfType('public')).resolves.toMatchObject({ tasks: [] });
  });

  it('takes a public host name (its address is checked again when the webhook is sent)', async () => {
    await world().api.expect<SubmittedTask>(201, 'POST', '/api/tasks', {
      type: 'public',
      context: { prompt: 'x' },
      callback_url: 'https://hooks.example.com/in',
    });
  });
});

describe('webhooks without WEBHOOK_SECRET (in-process Hives, real PostgreSQL)', () => {
  let db: TestDatabase | undefined;
  let hives: RunningHive[] = [];
  let hook: WebhookReceiver | undefined;

  afterAll(async () => {
    await closeAll([...hives.map((h) => () => h.close()), () => hook?.close(), () => db?.drop()]);
    hives = [];
  });

  it('refuses callbacks, and never sends a queued webhook unsigned: it stays pending, reported once', async () => {
    db = await createTestDatabase();
    hook = await startWebhookReceiver();
    hook.setDefault({ status: 503 });
    const signing = await startHive({ DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV, ...WEBHOOK_ENV });
    hives.push(signing);
    const api = new HiveApi(signing.url);
    const agent = await startOllamaAgent();
    try {
      const id = await taskWithCallback(api, agent, hook);
      await hook.waitForRequests(1, 20_000);
      await signing.close();

      const unsigned = await startHive({ DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV });
      hives.push(unsigned);
      const plain = new HiveApi(unsigned.url);
      const refused = await plain.request('POST', '/api/tasks', {
        type: 'hooks',
        context: { prompt: 'x' },
        callback_url: hook.url,
      });
      expect({ status: refused.status, messages: messages(refused.body) }).toEqual({
        status: 400,
        messages: ['callback_url needs WEBHOOK_SECRET, which this Hive does not have: callbacks are off'],
      });

      const report = await pollUntil(
        () => unsigned.logs.lines.filter((l) => message(l).includes('WEBHOOK_SECRET is not set')),
        (lines) => lines.length > 0,
        { describe: 'the unsigned backlog to be reported' },
      );
      expect(report).toEqual([expect.objectContaining({ pending: 1 })]);
      const requestsSeen = hook.requests.length;
      const task = await plain.expect<TaskWithWebhook>(200, 'GET', `/api/tasks/${id}`);
      expect(task.webhook).toMatchObject({ status: 'pending', last_status: 503 });
      expect(task.webhook?.attempts).toBe(requestsSeen);
    } finally {
      await agent.close();
    }
  });
});

describe('webhooks at shutdown (in-process Hive, real PostgreSQL)', () => {
  let db: TestDatabase | undefined;
  let hive: RunningHive | undefined;
  let hook: WebhookReceiver | undefined;
  let agent: OllamaAgent | undefined;

  afterAll(async () => {
    await closeAll([() => hive?.close(), () => agent?.close(), () => hook?.close(), () => db?.drop()]);
  });

  it('an attempt still unanswered when the grace ends is cut, and its delivery left due at once', async () => {
    db = await createTestDatabase();
    hook = await startWebhookReceiver({ responses: [{ kind: 'hang' }] });
    const env = { ...FAST_COORDINATOR_ENV, ...WEBHOOK_ENV, WEBHOOK_TIMEOUT_MS: '120000', SHUTDOWN_GRACE_MS: '500' };
    hive = await startHive({ DATABASE_URL: db.url, ...env });
    const api = new HiveApi(hive.url);
    agent = await startOllamaAgent();
    const id = await taskWithCallback(api, agent, hook);
    await hook.waitForRequests(1, 20_000);

    await hive.close(); // resolves: the 120 s timeout does not hold the exit
    const rows = await db.query(
      `SELECT status, attempts, last_status, last_error, lease_owner, next_attempt_at <= now() AS due
         FROM webhook_deliveries WHERE task_id = $1`,
      [id],
    );
    expect(rows).toEqual([
      {
        status: 'pending',
        attempts: 1,
        last_status: null,
        last_error: 'interrupted: the sending replica shut down',
        lease_owner: null,
        due: true,
      },
    ]);
    const waited = hive.logs.lines.map(message).filter((m) => m.startsWith('Waiting up to'));
    expect(waited).toEqual([expect.stringMatching(/^Waiting up to \d+ ms for 1 webhook\(s\)$/)]);
  });
});

/** Two real Hive processes (the production build) on one database: a killed sender's delivery is made by the other. */
describe('webhooks across replicas (real processes)', () => {
  let db: TestDatabase | undefined;
  let processes: HiveProcess[] = [];
  let hook: WebhookReceiver | undefined;
  let agent: OllamaAgent | undefined;

  afterAll(async () => {
    await closeAll([() => stopHiveProcesses(processes), () => agent?.close(), () => hook?.close(), () => db?.drop()]);
    processes = [];
  });

  it('SIGKILL while a webhook is in flight: another process delivers it with the same webhook-id after the lease', async () => {
    db = await createTestDatabase();
    hook = await startWebhookReceiver({ responses: [{ kind: 'hang' }] });
    // The killed process' lease is 2 × WEBHOOK_TIMEOUT_MS + 5 s = 15 s; its 5 s timeout far outlasts the kill below.
    const env = { DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV, ...WEBHOOK_ENV };
    const first = await spawnHive(env);
    processes.push(first);
    await first.waitUntilServing('/health');
    const api = new HiveApi(first.url);
    agent = await startOllamaAgent();
    const id = await taskWithCallback(api, agent, hook);

    await hook.waitForRequests(1, 20_000);
    first.kill('SIGKILL');
    await expect(first.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    const second = await spawnHive(env);
    processes.push(second);
    await second.waitUntilServing('/health');

    await hook.waitForRequests(2, 30_000);
    const task = await pollUntil(
      () => new HiveApi(second.url).expect<TaskWithWebhook>(200, 'GET', `/api/tasks/${id}`),
      (t) => t.webhook?.status === 'delivered',
      { describe: `task ${id}: webhook delivered`, timeoutMs: 20_000 },
    );
    expect(task.webhook).toMatchObject({ status: 'delivered', attempts: 2, last_status: 200 });
    expect(hook.requests.map((r) => r.answeredWith)).toEqual(['hang', 200]);
    expect(hook.requests[1]?.headers['webhook-id']).toBe(hook.requests[0]?.headers['webhook-id']);
    expect(verified(hook.requests[1])).toMatchObject({ type: 'task.completed', data: withoutWebhook(task) });
    // The first process died before its attempt ended: it recorded nothing, the second one delivered.
    const delivered = (p: HiveProcess) => p.logs().filter((l) => message(l).startsWith(`Webhook of task ${id}`));
    expect(delivered(first)).toEqual([]);
    // Its log line is written after the delivery is recorded, and reaches this process through a pipe: waited for.
    const logged = await pollUntil(
      () => Promise.resolve(delivered(second)),
      (lines) => lines.length > 0,
      { describe: `the second process' log line of the delivery of task ${id}` },
    );
    expect(logged).toEqual([expect.objectContaining({ taskId: id, status: 200, attempt: 2 })]);
  }, 90_000);
});

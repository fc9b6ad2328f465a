import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { LEVEL, level, message } from './support/process-control.js';
import { TEST_ADMIN_KEY } from './support/test-keys.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';

/** The request log: one JSON line per answered request, with its id, safe headers only, and nothing secret. */
describe('request log (in process)', () => {
  let db: TestDatabase;
  let hive: RunningHive;

  const linesOf = (id: string) =>
    hive.logs.lines.filter((l) => l.request_id === id && message(l) === 'request completed');

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY });
  });
  afterAll(async () => {
    await hive?.close();
    await db?.drop();
  });

  it('writes one line per request with its id, method, URL, status and only the safe headers', async () => {
    const res = await request(hive.url)
      .get('/api/agents?limit=5')
      .set('x-request-id', 'trace-log-1')
      .set('x-api-key', TEST_ADMIN_KEY)
      .set('authorization', 'Bearer not-for-the-log')
      .set('cookie', 'session=not-for-the-log')
      .set('user-agent', 'log-test/1')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('trace-log-1');
    const lines = linesOf('trace-log-1');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(level(line ?? {})).toBe(LEVEL.info);
    expect(line).toMatchObject({
      request_id: 'trace-log-1',
      req: { id: 'trace-log-1', method: 'GET', url: '/api/agents?limit=5', remoteAddress: '127.0.0.1' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number) as unknown,
    });
    const headers = Object.keys((line?.req as { headers: object }).headers).sort();
    expect(headers).toEqual(['host', 'user-agent']);
    expect(JSON.stringify(line)).not.toContain('not-for-the-log');
    expect(hive.logs.text()).not.toContain(TEST_ADMIN_KEY);
  });

  it('logs refused requests and unknown routes as warnings, each with an id of its own', async () => {
    const refused = await request(hive.url).get('/api/status').expect(401);
    const missing = await request(hive.url).get('/nowhere').expect(404);
    for (const res of [refused, missing]) {
      const id = res.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const lines = linesOf(id);
      expect(lines).toHaveLength(1);
      expect(level(lines[0] ?? {})).toBe(LEVEL.warn);
      expect((res.body as { request_id: string }).request_id).toBe(id);
    }
  });

  it('does not log the probes and the scrapes, however the path is spelled', async () => {
    for (const path of ['/health', '/HEALTH', '/health/', '/health/ready', '/api/metrics', '/API/METRICS/']) {
      const id = `quiet-${path.replaceAll('/', '_')}`;
      await request(hive.url).get(path).set('x-request-id', id).expect(200);
      expect([path, linesOf(id)]).toEqual([path, []]);
    }
  });
});

/** Work a request only sets going (a dispatch pass, the call it starts) serves no request: it logs no request's id. */
describe('request ids stay with their requests (in process)', () => {
  let db: TestDatabase;
  let agent: OllamaAgent;
  let hive: RunningHive;

  beforeAll(async () => {
    db = await createTestDatabase();
    agent = await startOllamaAgent({ behavior: { kind: 'error', status: 500, message: 'model runner crashed' } });
    // Registered before Hive starts, not through the API: no request of its own then wakes a pass that could take
    // the task before the submission's wake-up does.
    await db.query(
      `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, enabled)
       VALUES ('failing', $1, 'llama3:8b', 'code', 1, true)`,
      [agent.url],
    );
    // One failure takes the agent offline, and says so in a log line written by the call.
    hive = await startHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY, AGENT_MAX_FAILURES: '1' });
  });
  afterAll(async () => {
    await hive?.close();
    await agent?.close();
    await db?.drop();
  });

  it('logs the call a submission led to without the id of the submission', async () => {
    await request(hive.url)
      .post('/api/tasks')
      .set('x-request-id', 'submits-the-task')
      .set('x-api-key', TEST_ADMIN_KEY)
      .send({ type: 'code', context: { prompt: 'fails on its agent' }, max_attempts: 1 })
      .expect(201);
    const offline = () => hive.logs.lines.find((l) => message(l).startsWith('Agent failing is offline'));
    await waitUntil(() => offline() !== undefined, { describe: 'the agent to be logged offline' });
    expect(offline()).not.toHaveProperty('request_id');
    const submission = hive.logs.lines.filter((l) => l.request_id === 'submits-the-task');
    expect(submission.map(message)).toEqual(['request completed']);
  });
});

import request from 'supertest';
import { messages } from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { TEST_ADMIN_KEY } from './support/test-keys.js';

describe('hostile input: rate limits, CORS, body size, field validation', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  const admin = (req: request.Test) => req.set('x-api-key', TEST_ADMIN_KEY);

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({
      DATABASE_URL: db.url,
      HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY,
      CORS_ORIGINS: 'https://app.example.com',
      BODY_LIMIT: '2kb',
      AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1,*.agents.example.com,10.20.0.0/16',
    });
  });
  afterAll(async () => {
    await hive?.close();
    await db?.drop();
  });

  it('answers 429 with Retry-After past THROTTLE_LIMIT per key, while probes and metrics stay open', async () => {
    const limited = await startHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY, THROTTLE_LIMIT: '5' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await request(limited.url).get('/api/status').set('x-api-key', TEST_ADMIN_KEY)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const refused = await request(limited.url).get('/api/agents').set('x-api-key', TEST_ADMIN_KEY).expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      // Another key (or none: the client address) has its own budget.
      await request(limited.url).get('/api/status').expect(401);
      for (let i = 0; i < 10; i++) {
        await request(limited.url).get('/health').expect(200);
        await request(limited.url).get('/health/ready').expect(200);
        await request(limited.url).get('/api/metrics').expect(200);
      }
    } finally {
      await limited.close();
    }
  });

  it('allows CORS only for the configured origins', async () => {
    const allowed = await request(hive.url).get('/').set('origin', 'https://app.example.com').expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await request(hive.url).get('/').set('origin', 'https://evil.example.net').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(hive.url)
      .options('/api/tasks')
      .set('origin', 'https://app.example.com')
      .set('access-control-request-method', 'POST');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('sends helmet headers', async () => {
    const res = await request(hive.url).get('/').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('refuses a body above BODY_LIMIT with 413 in the common error shape', async () => {
    const res = await admin(request(hive.url).post('/api/tasks')).send({
      type: 'work',
      context: { blob: 'x'.repeat(4096) },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, request_id: expect.any(String) as unknown });
  });

  it.each([
    ['id', { id: 'Not A Slug', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's' }],
    ['endpoint', { id: 'a1', endpoint: 'ftp://127.0.0.1/', model: 'm', specialty: 's' }],
    ['endpoint', { id: 'a1', endpoint: 'http://internal.corp:11434', model: 'm', specialty: 's' }],
    ['model', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: '', specialty: 's' }],
    ['specialty', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 'UPPER case' }],
    ['max_concurrent', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', max_concurrent: 0 }],
    ['kind', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', kind: 'openai' }],
    ['surprise', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', surprise: 1 }],
  ])('POST /api/agents: 400 naming %s', async (field, body) => {
    const res = await admin(request(hive.url).post('/api/agents')).send(body).expect(400);
    expect(messages(res.body).join(' ')).toMatch(new RegExp(field === 'endpoint' ? 'endpoint' : `\\b${field}\\b`));
  });

  it('accepts agent endpoints the allowlist names, by host pattern or CIDR', async () => {
    for (const [id, endpoint] of [
      ['ok-1', 'http://gpu.agents.example.com:11434'],
      ['ok-2', 'http://10.20.3.4:11434'],
    ]) {
      await admin(request(hive.url).post('/api/agents'))
        .send({ id, endpoint, model: 'm', specialty: 'work' })
        .expect(201);
    }
    await admin(request(hive.url).patch('/api/agents/ok-1')).send({ endpoint: 'http://10.99.0.1:11434' }).expect(400);
  });

  it.each([
    ['type', { type: 'Bad Type' }],
    ['priority', { type: 'work', priority: 6 }],
    ['priority', { type: 'work', priority: 'high' }],
    ['context', { type: 'work', context: [1, 2] }],
    [
      'context',
      { type: 'work', context: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: { k: 1 } } } } } } } } } } } },
    ],
    ['max_attempts', { type: 'work', max_attempts: 0 }],
    ['timeout_ms', { type: 'work', timeout_ms: 5 }],
    ['extra', { type: 'work', extra: true }],
  ])('POST /api/tasks: 400 naming %s', async (field, body) => {
    const res = await admin(request(hive.url).post('/api/tasks')).send(body).expect(400);
    expect(messages(res.body).join(' ')).toContain(field);
  });

  it('validates ids and query parameters before they reach SQL', async () => {
    await admin(request(hive.url).get("/api/tasks/1' OR '1'='1")).expect(400);
    await admin(request(hive.url).get('/api/agents/..%2F..%2Fetc')).expect(400);
    await admin(request(hive.url).get('/api/tasks?limit=1001')).expect(400);
    await admin(request(hive.url).get('/api/tasks?status=done')).expect(400);
    await admin(request(hive.url).delete('/api/keys/not-a-uuid')).expect(400);
  });
});

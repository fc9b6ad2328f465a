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

  /** helmet 8's defaults, as Hive sent them under Express (helmet). */
  const HELMET_HEADERS = {
    'content-security-policy':
      "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';" +
      "img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';" +
      "style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };

  it('sends helmet headers and the request id on answers, errors, 404s, refused bodies and preflights alike', async () => {
    const answers = [
      await request(hive.url).get('/').expect(200),
      await request(hive.url).get('/api/agents').expect(401),
      await request(hive.url).get('/nowhere').expect(404),
      await admin(request(hive.url).post('/api/tasks'))
        .set('content-type', 'application/json')
        .send('{bad')
        .expect(400),
      await admin(request(hive.url).post('/api/tasks')).send({ type: 'work', context: { blob: 'x'.repeat(4096) } }),
      await admin(request(hive.url).get('/api/agents/%zz')).expect(400),
      await request(hive.url)
        .options('/api/tasks')
        .set('origin', 'https://app.example.com')
        .set('access-control-request-method', 'POST')
        .expect(204),
    ];
    for (const res of answers) {
      expect(res.headers).toMatchObject({ ...HELMET_HEADERS, 'x-request-id': expect.any(String) as unknown });
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers a preflight as before: every method, the exposed headers, whatever the preflight lacks', async () => {
    const preflight = await request(hive.url)
      .options('/api/tasks')
      .set('origin', 'https://app.example.com')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'x-api-key,content-type')
      .expect(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
      'access-control-allow-headers': 'x-api-key,content-type',
      'access-control-expose-headers': 'x-request-id,retry-after,x-hive-task-id,x-hive-agent,x-hive-queue-ms',
      vary: 'Origin, Access-Control-Request-Headers',
    });
    const bare = await request(hive.url).options('/api/tasks').expect(204);
    expect(bare.headers['access-control-allow-origin']).toBeUndefined();
    const answer = await request(hive.url).get('/').set('origin', 'https://app.example.com').expect(200);
    expect(answer.headers['access-control-expose-headers']).toBe(
      'x-request-id,retry-after,x-hive-task-id,x-hive-agent,x-hive-queue-ms',
    );
  });

  it('refuses a body above BODY_LIMIT with 413 in the common error shape', async () => {
    const res = await admin(request(hive.url).post('/api/tasks')).send({
      type: 'work',
      context: { blob: 'x'.repeat(4096) },
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'request entity too large',
      request_id: res.headers['x-request-id'],
    });
  });

  /** POST /api/tasks with a raw body; every answer must be in the error shape, with the request's id. */
  async function postRaw(headers: Record<string, string>, body?: string) {
    const res = await fetch(`${hive.url}/api/tasks`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_ADMIN_KEY, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const answer = (await res.json()) as Record<string, unknown>;
    expect(answer).toEqual({
      statusCode: res.status,
      error: expect.any(String) as unknown,
      message: expect.anything() as unknown,
      request_id: res.headers.get('x-request-id'),
    });
    return { status: res.status, message: answer.message };
  }
  const JSON_TYPE = { 'content-type': 'application/json' };

  it.each([
    ['{"type": "work",', /^Expected double-quoted property name in JSON at position 16/],
    ['{bad', /^Expected property name or '}' in JSON at position 1/],
    ['not json', /^The body must be a JSON object or array$/],
    ['null', /^The body must be a JSON object or array$/],
    ['42', /^The body must be a JSON object or array$/],
  ])('answers malformed JSON %j with 400 saying what is wrong', async (body, message) => {
    const res = await postRaw(JSON_TYPE, body);
    expect(res).toEqual({ status: 400, message: expect.stringMatching(message) as unknown });
  });

  it('reads an empty JSON body as no body: the missing fields are named, and a route without a body runs', async () => {
    await expect(postRaw(JSON_TYPE, '')).resolves.toEqual({
      status: 400,
      message: ['type or model must be given'],
    });
    const cancel = await fetch(`${hive.url}/api/tasks/6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f/cancel`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_ADMIN_KEY, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(cancel.status).toBe(404);
  });

  it.each([
    ['text/plain', '{"type":"work"}'],
    ['application/x-www-form-urlencoded', 'type=work'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/vnd.api+json', '{"type":"work"}'],
    ['garbage', '{"type":"work"}'],
  ])('answers a %s body with 415, naming the type to send', async (type, body) => {
    await expect(postRaw({ 'content-type': type }, body)).resolves.toEqual({
      status: 415,
      message: 'Unsupported Media Type: send the body as JSON (Content-Type: application/json)',
    });
  });

  it('answers a compressed body with 415 (Hive reads JSON as sent)', async () => {
    await expect(postRaw({ ...JSON_TYPE, 'content-encoding': 'gzip' }, '{"type":"work"}')).resolves.toEqual({
      status: 415,
      message: 'Content-Encoding gzip is not supported: send the body uncompressed',
    });
  });

  it('drops __proto__ and constructor.prototype keys while parsing, as the whitelist did before', async () => {
    const res = await postRaw(
      JSON_TYPE,
      '{"type":"nobody-serves-this","__proto__":{"polluted":1},"context":{"__proto__":{"a":1}}}',
    );
    // Past parsing and validation: refused only because no agent serves the type.
    expect(res).toEqual({ status: 400, message: expect.stringContaining('nobody-serves-this') as unknown });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers a URL that does not decode with 400 in the error shape', async () => {
    const res = await admin(request(hive.url).get('/api/agents/%zz')).expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringContaining('%zz') as unknown,
      request_id: res.headers['x-request-id'],
    });
  });

  it.each([
    ['id', { id: 'Not A Slug', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's' }],
    ['endpoint', { id: 'a1', endpoint: 'ftp://127.0.0.1/', model: 'm', specialty: 's' }],
    ['endpoint', { id: 'a1', endpoint: 'http://internal.corp:11434', model: 'm', specialty: 's' }],
    ['model', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: '', specialty: 's' }],
    ['specialty', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 'UPPER case' }],
    ['max_concurrent', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', max_concurrent: 0 }],
    ['kind', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', kind: 'vllm' }],
    ['api_key', { id: 'a1', endpoint: 'http://127.0.0.1:1', model: 'm', specialty: 's', api_key: 'two words' }],
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
    // However long: the router passes the parameter on (as Express did), the validation refuses it.
    const long = await admin(request(hive.url).get(`/api/agents/${'a'.repeat(300)}`)).expect(400);
    expect(messages(long.body)).toEqual(['id must be a slug: lowercase letters, digits, - and _']);
    await admin(request(hive.url).get('/api/tasks?limit=1001')).expect(400);
    await admin(request(hive.url).get('/api/tasks?status=done')).expect(400);
    await admin(request(hive.url).delete('/api/keys/not-a-uuid')).expect(400);
  });
});

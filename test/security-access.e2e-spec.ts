import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { createKey, TEST_ADMIN_KEY, type Role } from './support/test-keys.js';

type Caller = 'none' | 'bad' | 'revoked' | 'expired' | Role;
const CALLERS: Caller[] = ['none', 'bad', 'revoked', 'expired', 'viewer', 'operator', 'admin'];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

interface Route {
  name: string;
  needs: Role | 'open';
  /** Sends the request with `key` (if any) and returns its status; may prepare fresh resources as admin first. */
  call: (key: string | undefined) => Promise<number>;
}

describe('access control: every route against every kind of caller', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  const keys = new Map<Caller, string>();
  let serial = 0;

  const as = (key: string | undefined) => (req: request.Test) => (key === undefined ? req : req.set('x-api-key', key));
  const admin = (req: request.Test) => req.set('x-api-key', TEST_ADMIN_KEY);
  const newAgent = async (enabled = true) => {
    const id = `agent-${++serial}`;
    await admin(request(hive.url).post('/api/agents'))
      .send({ id, endpoint: 'http://127.0.0.1:9', model: 'm', specialty: 'work' })
      .expect(201);
    if (!enabled)
      await admin(request(hive.url).patch(`/api/agents/${id}`))
        .send({ enabled: false })
        .expect(200);
    return id;
  };
  const newTask = async () =>
    ((await admin(request(hive.url).post('/api/tasks')).send({ type: 'work' }).expect(201)).body as { id: string }).id;

  const routes: Route[] = [
    { name: 'GET /', needs: 'open', call: async (k) => (await as(k)(request(hive.url).get('/'))).status },
    { name: 'GET /health', needs: 'open', call: async (k) => (await as(k)(request(hive.url).get('/health'))).status },
    {
      name: 'GET /health/ready',
      needs: 'open',
      call: async (k) => (await as(k)(request(hive.url).get('/health/ready'))).status,
    },
    {
      name: 'GET /api/metrics',
      needs: 'open',
      call: async (k) => (await as(k)(request(hive.url).get('/api/metrics'))).status,
    },
    {
      name: 'GET /api/status',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get('/api/status'))).status,
    },
    {
      name: 'GET /api/health',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get('/api/health'))).status,
    },
    {
      name: 'GET /api/agents',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get('/api/agents'))).status,
    },
    {
      name: 'GET /api/agents/:id',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get(`/api/agents/${await newAgent(false)}`))).status,
    },
    {
      name: 'POST /api/agents',
      needs: 'admin',
      call: async (k) =>
        (
          await as(k)(request(hive.url).post('/api/agents')).send({
            id: `new-${++serial}`,
            endpoint: 'http://127.0.0.1:9',
            model: 'm',
            specialty: 'work',
          })
        ).status,
    },
    {
      name: 'PATCH /api/agents/:id',
      needs: 'admin',
      call: async (k) =>
        (await as(k)(request(hive.url).patch(`/api/agents/${await newAgent(false)}`)).send({ model: 'x' })).status,
    },
    {
      name: 'DELETE /api/agents/:id',
      needs: 'admin',
      call: async (k) => (await as(k)(request(hive.url).delete(`/api/agents/${await newAgent(false)}`))).status,
    },
    {
      name: 'GET /api/tasks',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get('/api/tasks'))).status,
    },
    {
      name: 'GET /api/tasks/:id',
      needs: 'viewer',
      call: async (k) => (await as(k)(request(hive.url).get(`/api/tasks/${await newTask()}`))).status,
    },
    {
      name: 'POST /api/tasks',
      needs: 'operator',
      call: async (k) => (await as(k)(request(hive.url).post('/api/tasks')).send({ type: 'work' })).status,
    },
    {
      name: 'POST /api/tasks/batch',
      needs: 'operator',
      call: async (k) =>
        (
          await as(k)(request(hive.url).post('/api/tasks/batch')).send({
            tasks: [{ type: 'work' }, { type: 'work', priority: 5 }],
          })
        ).status,
    },
    {
      name: 'POST /api/tasks/:id/cancel',
      needs: 'operator',
      call: async (k) => (await as(k)(request(hive.url).post(`/api/tasks/${await newTask()}/cancel`))).status,
    },
    {
      name: 'GET /api/keys',
      needs: 'admin',
      call: async (k) => (await as(k)(request(hive.url).get('/api/keys'))).status,
    },
    {
      name: 'POST /api/keys',
      needs: 'admin',
      call: async (k) => (await as(k)(request(hive.url).post('/api/keys')).send({ name: 'n', role: 'viewer' })).status,
    },
    {
      name: 'DELETE /api/keys/:id',
      needs: 'admin',
      call: async (k) =>
        (await as(k)(request(hive.url).delete(`/api/keys/${(await createKey(hive.url, 'viewer')).id}`))).status,
    },
  ];

  function expected(route: Route, caller: Caller): 'ok' | 401 | 403 {
    if (route.needs === 'open') return 'ok';
    if (caller === 'none' || caller === 'bad' || caller === 'revoked' || caller === 'expired') return 401;
    return RANK[caller] >= RANK[route.needs] ? 'ok' : 403;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY });
    await newAgent(false); // serves "work"; disabled, so tasks stay pending and can be cancelled
    keys.set('admin', (await createKey(hive.url, 'admin')).key);
    keys.set('operator', (await createKey(hive.url, 'operator')).key);
    keys.set('viewer', (await createKey(hive.url, 'viewer')).key);
    keys.set('bad', 'hive_this_key_was_never_issued_0123456789abcdef');
    const revoked = await createKey(hive.url, 'admin', 'revoked');
    await admin(request(hive.url).delete(`/api/keys/${revoked.id}`)).expect(200);
    keys.set('revoked', revoked.key);
    const expired = await createKey(hive.url, 'admin', 'expired');
    await db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    keys.set('expired', expired.key);
  });
  afterAll(async () => {
    await hive?.close();
    await db?.drop();
  });

  it.each(routes.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const seen: Record<string, number> = {};
    for (const caller of CALLERS) seen[caller] = await route.call(keys.get(caller));
    const wanted = Object.fromEntries(CALLERS.map((c) => [c, expected(route, c)]));
    const actual = Object.fromEntries(CALLERS.map((c) => [c, seen[c] >= 200 && seen[c] < 300 ? 'ok' : seen[c]]));
    expect(actual).toEqual(wanted);
  });

  it('accepts the key as Authorization: Bearer too, and says why a key is refused', async () => {
    await request(hive.url)
      .get('/api/status')
      .set('authorization', `Bearer ${keys.get('viewer')}`)
      .expect(200);
    const res = await request(hive.url).get('/api/status').expect(401);
    expect(res.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      request_id: expect.any(String) as unknown,
    });
    const forbidden = await request(hive.url)
      .post('/api/agents')
      .set('x-api-key', keys.get('viewer')!)
      .send({})
      .expect(403);
    expect((forbidden.body as { message: string }).message).toContain('admin');
  });

  it('asks for a key whatever the case of the path or a trailing slash (the router ignores both)', async () => {
    await request(hive.url).get('/API/TASKS').expect(401);
    await request(hive.url).get('/api/tasks/').expect(401);
    await request(hive.url).post('/Api/Keys').send({ name: 'sneaky', role: 'admin' }).expect(401);
    await request(hive.url)
      .delete(`/API/agents/${await newAgent(false)}`)
      .expect(401);
    await request(hive.url).get('/API/tasks').set('x-api-key', keys.get('viewer')!).expect(200);
    await request(hive.url)
      .post('/API/KEYS')
      .set('x-api-key', keys.get('viewer')!)
      .send({ name: 'n', role: 'viewer' })
      .expect(403);
    // The open routes stay open in any spelling the router accepts.
    await request(hive.url).get('/api/metrics/').expect(200);
    await request(hive.url).get('/HEALTH').expect(200);
  });

  /** Sends `path` exactly as written (no URL normalisation on the way) and returns the status and body. */
  function rawGet(path: string, key?: string): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(hive.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { hostname, port, path, headers: key === undefined ? {} : { 'x-api-key': key } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it.each([
    ['/API/agents', 'another case'],
    ['/Api/Agents', 'mixed case'],
    ['/api/agents/', 'a trailing slash'],
    ['/api/agents?x', 'a query'],
    ['/api/agents?x=1&y', 'a query with several parameters'],
    ['/api/agents#f', 'a fragment'],
    ['/%61pi/agents', 'an encoded letter in the first segment'],
    ['/api/%61gents', 'an encoded letter in the second segment'],
    ['/API/AGENTS/agent-1', 'another case, with a parameter'],
    ['/api/agents/%61gent-1', 'an encoded parameter'],
  ])('asks for a key on %s (%s): the guard decides by the route matched', async (path) => {
    const res = await rawGet(path);
    expect([path, res.status]).toEqual([path, 401]);
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect([path, (await rawGet(path, keys.get('viewer'))).status]).toEqual([path, 200]);
  });

  it.each([
    ['//api/agents', 404],
    ['/api//agents', 404],
    ['/api/agents//', 404],
    ['/%2Fapi%2Fagents', 404],
    ['/api%2Fagents', 404],
    ['/api/./agents', 404],
    ['/api/x/../agents', 404],
    ['/api/agents;x', 404],
    ['%2Fapi%2Fagents', 400],
    ['api/agents', 400],
    ['*', 404],
  ])('matches no route for %s, with or without a key, and shows no data', async (path, status) => {
    for (const key of [undefined, keys.get('admin')]) {
      const res = await rawGet(path, key);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.body).not.toContain('"agents"');
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: status, request_id: expect.any(String) as unknown });
    }
  });

  it('has no CORS without CORS_ORIGINS: no access-control headers, and a preflight is an unknown route', async () => {
    const answer = await request(hive.url).get('/').set('origin', 'https://app.example.com').expect(200);
    expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const preflight = await request(hive.url)
      .options('/api/tasks')
      .set('origin', 'https://app.example.com')
      .set('access-control-request-method', 'POST')
      .expect(404);
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('never returns a key from the listing, only its prefix', async () => {
    const res = await admin(request(hive.url).get('/api/keys')).expect(200);
    const text = JSON.stringify(res.body);
    for (const caller of ['admin', 'operator', 'viewer'] as const) expect(text).not.toContain(keys.get(caller));
    expect((res.body as { keys: { key_prefix: string }[] }).keys.every((k) => k.key_prefix.startsWith('hive_'))).toBe(
      true,
    );
  });
});

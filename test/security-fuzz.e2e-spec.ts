import fc from 'fast-check';
import { HiveApi } from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { createKey, TEST_ADMIN_KEY } from './support/test-keys.js';

const DB_PASSWORD = 'fuzz-db-secret-pw-7731';
const RUNS = 2_000;

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'] as const;
const PATHS = [
  (p: string) => `/api/agents/${p}`,
  (p: string) => `/api/tasks/${p}`,
  (p: string) => `/api/tasks/${p}/cancel`,
  (p: string) => `/api/keys/${p}`,
  () => '/api/agents',
  () => '/api/tasks',
  () => '/api/keys',
  () => '/api/status',
  () => '/api/health',
  (p: string) => `/${p}`,
];
const CONTENT_TYPES = [
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'application/xml',
  '',
];

/** Bodies that are almost right, plainly wrong, or not JSON at all. */
const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc
    .record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        type: fc.oneof(fc.constantFrom('work', 'WORK', ''), fc.string()),
        endpoint: fc.oneof(fc.webUrl(), fc.string(), fc.constant('http://127.0.0.1:9')),
        model: fc.oneof(fc.string(), fc.integer()),
        specialty: fc.string(),
        priority: fc.oneof(fc.integer(), fc.double(), fc.string()),
        max_concurrent: fc.oneof(fc.integer(), fc.string()),
        context: fc.oneof(fc.object(), fc.anything()),
        role: fc.string(),
        name: fc.string(),
        expires_at: fc.oneof(
          fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
          fc.string(),
        ),
        enabled: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

const hostileRequest = fc.record({
  method: fc.constantFrom(...METHODS),
  path: fc.tuple(
    fc.constantFrom(...PATHS),
    fc.oneof(fc.string(), fc.uuid(), fc.constantFrom('..', '%00', "' OR 1=1 --")),
  ),
  query: fc.dictionary(fc.constantFrom('status', 'type', 'agent', 'limit', 'offset', 'force', 'x'), fc.string(), {
    maxKeys: 4,
  }),
  contentType: fc.constantFrom(...CONTENT_TYPES),
  body,
  key: fc.constantFrom('admin', 'operator', 'viewer', 'none', 'garbage'),
});

describe('fuzz: thousands of malformed requests never cause a 5xx', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  const keys: Record<string, string | undefined> = {
    admin: TEST_ADMIN_KEY,
    none: undefined,
    garbage: 'hive_\u0000\u00ff',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.url);
    url.password = DB_PASSWORD; // trust auth ignores it; it must still never be logged
    hive = await startHive({
      DATABASE_URL: url.toString(),
      HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY,
      THROTTLE_LIMIT: '100000',
    });
    keys.operator = (await createKey(hive.url, 'operator')).key;
    keys.viewer = (await createKey(hive.url, 'viewer')).key;
    await new HiveApi(hive.url).registerAgent({
      id: 'worker',
      endpoint: 'http://127.0.0.1:9',
      model: 'm',
      specialty: 'work',
    });
  });
  afterAll(async () => {
    await hive?.close();
    await db?.drop();
  });

  it(`answers ${RUNS} generated requests without a 5xx, and is still ready after`, async () => {
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const path = r.path[0](encodeURIComponent(r.path[1]));
        const query = new URLSearchParams(r.query).toString();
        const headers: Record<string, string> = {};
        if (r.contentType !== '') headers['content-type'] = r.contentType;
        const key = keys[r.key];
        if (key !== undefined) headers['x-api-key'] = key.replace(/[^\x20-\x7e]/g, '?');
        const withBody = r.method !== 'GET' && r.method !== 'DELETE';
        const res = await fetch(`${hive.url}${path}${query ? `?${query}` : ''}`, {
          method: r.method,
          headers,
          ...(withBody ? { body: r.body } : {}),
        });
        const text = await res.text();
        if (res.status >= 500) failures.push(`${r.method} ${path} -> ${res.status} ${text.slice(0, 200)}`);
        return res.status < 500 && !/at .+\.(js|ts):\d+/.test(text) && !/SELECT|INSERT|UPDATE .* SET/.test(text);
      }),
      { numRuns: RUNS },
    );
    expect(failures).toEqual([]);
    const ready = await fetch(`${hive.url}/health/ready`);
    expect(ready.status).toBe(200);
  });

  it('logged no API key, bearer token or database password', () => {
    const logs = hive.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [TEST_ADMIN_KEY, keys.operator, keys.viewer, DB_PASSWORD]) expect(logs).not.toContain(secret);
  });
});

import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { message, stopHiveProcess } from './support/process-control.js';

/** GET a path of the process; undefined once it no longer accepts connections. */
async function get(url: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  } catch {
    return undefined;
  }
}

describe('readiness during the shutdown grace (real process)', () => {
  let db: TestDatabase | undefined;
  let hive: HiveProcess | undefined;

  afterAll(async () => {
    await stopHiveProcess(hive);
    await db?.drop();
  });

  it('answers 503 shutting_down on /health/ready from SIGTERM on, while the process still serves', async () => {
    db = await createTestDatabase();
    // SHUTDOWN_GRACE_MS 10 s: a readiness grace of 2 s (a fifth of it).
    hive = await spawnHive({ DATABASE_URL: db.url, SHUTDOWN_GRACE_MS: '10000' });
    await hive.waitUntilServing('/health/ready');

    hive.kill('SIGTERM');
    let ready = await get(`${hive.url}/health/ready`);
    while (ready?.status === 200) ready = await get(`${hive.url}/health/ready`);
    expect(ready).toEqual({ status: 503, body: { status: 'shutting_down', info: {}, error: {}, details: {} } });
    // Still serving: liveness answers after readiness turned.
    expect(await get(`${hive.url}/health`)).toEqual({ status: 200, body: { status: 'ok' } });

    await hive.exited;
    expect(hive.logs().map(message)).toContain('Awaiting 2000ms before shutdown');
  });
});

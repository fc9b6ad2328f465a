import request from 'supertest';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { createTestDatabase, withAdminClient, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { LEVEL, level, message } from './support/process-control.js';
import { waitUntil } from './support/poll.js';

const POOL_SIZE = 4;
/** The advisory lock (of this suite's own database) that holds the pool's queries. */
const LOCK = 42_424;
const ADMIN_KEY = 'resilience-suite-admin-key-0123456789abcdef';

/**
 * PostgreSQL kills every connection of a running Hive (a failover, a restart, an admin's pg_terminate_backend):
 * the pool drops the dead clients, logs it, and the next queries open fresh connections. Nothing crashes.
 */
describe('connections killed under a running app (in process)', () => {
  let db: TestDatabase | undefined;
  let hive: RunningHive | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url, DB_POOL_SIZE: String(POOL_SIZE), HIVE_ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await hive?.close();
    await db?.drop();
  });

  const adminUrl = (): string => {
    const url = process.env.HIVE_TEST_ADMIN_URL;
    if (url === undefined) throw new Error('HIVE_TEST_ADMIN_URL is not set');
    return url;
  };

  /** Backend pids connected to this suite's database (the admin client is connected to another one). */
  const backends = (name: string): Promise<number[]> =>
    withAdminClient(adminUrl(), async (c) =>
      (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map(
        (r) => r.pid,
      ),
    );

  /** Backends of this suite's database waiting for the test's advisory lock. */
  const waitingOnLock = (name: string): Promise<number> =>
    withAdminClient(adminUrl(), async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE d.datname = $1 AND l.locktype = 'advisory' AND NOT l.granted`,
        [name],
      );
      return rows[0]?.n ?? 0;
    });

  it('serves the next requests on fresh connections after every backend was terminated', async () => {
    if (hive === undefined || db === undefined) throw new Error('setup failed');
    const { name } = db;
    const dataSource = hive.app.get(DataSource);

    // POOL_SIZE queries held at once on an advisory lock the test owns make the pool open POOL_SIZE connections:
    // the lock, not a sleep, keeps them busy until they are all seen waiting on the server.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    let before: number[];
    try {
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
      const held = Promise.all(
        Array.from({ length: POOL_SIZE }, () => dataSource.query('SELECT pg_advisory_xact_lock_shared($1)', [LOCK])),
      );
      await waitUntil(async () => (await waitingOnLock(name)) === POOL_SIZE, {
        describe: `${POOL_SIZE} pool connections waiting on the lock`,
      });
      before = (await backends(name)).filter((pid) => pid !== holderPid);
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
      await held;
    } finally {
      await holder.end(); // before the kill below, which would otherwise take this client too
    }
    expect(before.length).toBeGreaterThanOrEqual(POOL_SIZE);

    const terminated = await withAdminClient(
      adminUrl(),
      async (c) =>
        (
          await c.query<{ done: boolean }>(
            'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [name],
          )
        ).rows,
    );
    expect(terminated.length).toBeGreaterThanOrEqual(POOL_SIZE);
    expect(terminated.every((r) => r.done)).toBe(true);
    // The kill is complete once the terminated backends are gone on the server side.
    await waitUntil(async () => (await backends(name)).every((pid) => !before.includes(pid)), {
      describe: 'the backends to exit',
    });

    const dropped = (): Record<string, unknown>[] =>
      hive?.logs.lines.filter((l) => message(l).startsWith('Idle PostgreSQL connection dropped')) ?? [];
    await waitUntil(() => dropped().length > 0, { describe: 'a warn line about a dropped idle connection' });
    for (const line of dropped()) {
      expect(level(line)).toBe(LEVEL.warn);
      expect(message(line)).toContain('terminating connection due to administrator command');
    }

    // No retry here: every request and query after the kill must succeed on its first try (the old backends are
    // gone, so each one runs on a fresh connection).
    for (let i = 0; i < 5; i++) {
      const res = await request(hive.url).get('/api/tasks').set('x-api-key', ADMIN_KEY).expect(200);
      expect(res.body).toMatchObject({ tasks: [], total: 0 });
    }
    for (let i = 0; i < 5; i++) {
      await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    }
    const parallel = Array.from({ length: POOL_SIZE }, () => dataSource.query('SELECT 2 AS two FROM pg_sleep(0.02)'));
    await expect(Promise.all(parallel)).resolves.toEqual(Array.from({ length: POOL_SIZE }, () => [{ two: 2 }]));
    await expect(dataSource.query('SELECT count(*)::int AS n FROM tasks')).resolves.toEqual([{ n: 0 }]);

    // The process is alive and still answers HTTP, with no error logged for the dropped connections.
    await request(hive.url).get('/health').expect(200, { status: 'ok' });
    expect(hive.logs.lines.filter((l) => level(l) >= LEVEL.error)).toEqual([]);
  });
});

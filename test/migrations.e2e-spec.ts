import { migrations } from '../migrations/index.js';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { message, stopHiveProcesses } from './support/process-control.js';

/**
 * Two replicas start together on an empty database: the advisory lock makes them take turns, so the schema is
 * created once, and both end up serving.
 */
describe('migrations run by two processes at once (real processes)', () => {
  let db: TestDatabase | undefined;
  let hives: HiveProcess[] = [];

  afterAll(async () => {
    await stopHiveProcesses(hives);
    await db?.drop();
  });

  it('creates the schema exactly once and both processes serve', async () => {
    db = await createTestDatabase({ empty: true });
    // An admin key is given, so that neither creates one in ./.hive (the working directory of the tests).
    const env = { DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: 'migrations-suite-admin-key-0123456789abcdef' };
    hives = await Promise.all([spawnHive(env), spawnHive(env)]);
    await Promise.all(hives.map((hive) => hive.waitUntilServing('/health')));

    const names = migrations.map((Migration) => new Migration().name);
    const applied = await db.query<{ name: string; rows: number }>(
      'SELECT name, count(*)::int AS rows FROM hive_migrations GROUP BY name',
    );
    expect(Object.fromEntries(applied.map((r) => [r.name, r.rows]))).toEqual(
      Object.fromEntries(names.map((name) => [name, 1])),
    );
    const tables = await db.query<{ agents: boolean; tasks: boolean }>(
      `SELECT to_regclass('public.agents') IS NOT NULL AS agents, to_regclass('public.tasks') IS NOT NULL AS tasks`,
    );
    expect(tables).toEqual([{ agents: true, tasks: true }]);

    // One process applied the migrations while holding the lock; the other then found nothing left to do.
    const said = hives.map((hive) => hive.logs().map(message));
    const appliedBy = said.filter((lines) => lines.some((m) => m.startsWith('Applied migrations: ')));
    const upToDate = said.filter((lines) => lines.includes('Database schema is up to date'));
    expect([appliedBy.length, upToDate.length]).toEqual([1, 1]);

    hives.forEach((hive) => hive.kill('SIGTERM'));
    const exits = await Promise.all(hives.map((hive) => hive.exited));
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});

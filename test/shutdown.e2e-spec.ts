import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { LEVEL, level, message, stopHiveProcess } from './support/process-control.js';

/** Given, so that Hive does not create one in ./.hive (the working directory of the tests). */
const ADMIN_KEY = 'shutdown-suite-admin-key-0123456789abcdef';

/** SIGTERM (what Kubernetes and docker stop send) ends Hive cleanly: exit 0, connections closed, nothing in error. */
describe('SIGTERM on a running process (real process)', () => {
  let db: TestDatabase | undefined;
  let hive: HiveProcess | undefined;

  afterAll(async () => {
    await stopHiveProcess(hive);
    await db?.drop();
  });

  it('exits 0, logs that the database connections closed, and logs no error', async () => {
    db = await createTestDatabase();
    hive = await spawnHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: ADMIN_KEY });
    await hive.waitUntilServing('/health');
    const root = await fetch(`${hive.url}/`);
    expect(root.status).toBe(200);
    await root.arrayBuffer();

    hive.kill('SIGTERM');
    await expect(hive.exited).resolves.toEqual({ code: 0, signal: null });

    const logs = hive.logs();
    expect(logs.filter((l) => level(l) >= LEVEL.error)).toEqual([]);
    expect(logs.filter((l) => message(l) === 'Database connections closed')).toHaveLength(1);
    // Every line the process wrote is a JSON log line (nothing printed around the logger).
    expect(logs).toHaveLength(hive.lines.length);
  });
});

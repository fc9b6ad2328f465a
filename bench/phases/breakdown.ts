/**
 * The breakdown phase: Hive's two halves apart, in one process. REST ingestion alone (agents disabled, so nothing is
 * dispatched), then dispatch alone (agents enabled again and one NOTIFY: the queue is full, as in the raw loop's run).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminClient } from '../../test/support/test-database.js';
import { BenchHive } from '../hive.js';
import { costs, profiled, profiling, readings, sampled, STATS_FLUSH_MS, targetCpuUsPerTask } from '../measure.js';
import type { PhaseContext } from '../phase.js';
import { fmt } from '../stats.js';
import { taskSummary, waitUntilDrained } from '../task-table.js';
import { agentRows, requestsSeen, resetAgents, task } from '../workload.js';

/** `raw`: the raw loop's rate from the throughput phase (tasks/s), when it ran, for the comparison. */
export async function breakdownPhase(run: PhaseContext, raw: number | undefined): Promise<void> {
  const { settings, agents, log } = run;
  const n = settings.breakdownTasks;
  log(`\n== breakdown: ${n} tasks submitted with the agents disabled, then dispatched`);
  const db = await run.dbs.create('breakdown');
  const hive = await BenchHive.start(db.url, { clientSockets: settings.clientConcurrency, ...profiling(settings) });
  try {
    await hive.registerAgents(agentRows(agents, settings.agentConcurrency));
    await withAdminClient(db.url, async (pgc) => {
      if (settings.warmup > 0) {
        await hive.client.submitMany(settings.warmup, settings.clientConcurrency, task);
        await waitUntilDrained(pgc, settings.warmup, () => requestsSeen(agents));
      }
      await pgc.query(`UPDATE agents SET enabled = false`);
      await sleep(STATS_FLUSH_MS);
      let before = await readings(pgc, hive.pid);
      const started = performance.now();
      await sampled(run, hive, () =>
        profiled(run, hive, 'ingest only', n, () =>
          hive.client.submitMany(n, settings.clientConcurrency, (i) => task(settings.warmup + i)),
        ),
      );
      const ingestMs = performance.now() - started;
      await sleep(STATS_FLUSH_MS);
      let after = await readings(pgc, hive.pid);
      const ingest = (n * 1000) / ingestMs;
      log(`  ingest only: ${n} POST /api/tasks in ${fmt(ingestMs)} ms = ${fmt(ingest)} POST/s (nothing dispatched)`);
      log(costs('hive', n, before, after, 0));
      const ingestCpu = targetCpuUsPerTask(n, before, after);

      resetAgents(agents);
      before = await readings(pgc, hive.pid);
      const startedAtMs = Date.now();
      const polls = await sampled(run, hive, () =>
        profiled(run, hive, 'dispatch only', n, async () => {
          await pgc.query(`UPDATE agents SET enabled = true`);
          await pgc.query(`SELECT pg_notify('hive_wake', '')`);
          return waitUntilDrained(pgc, settings.warmup + n, () => requestsSeen(agents));
        }),
      );
      const { byStatus, lastCompletedMs } = await taskSummary(pgc);
      await sleep(STATS_FLUSH_MS);
      after = await readings(pgc, hive.pid);
      const dispatchMs = lastCompletedMs - startedAtMs;
      const dispatch = (n * 1000) / dispatchMs;
      log(
        `  dispatch only: ${n} queued tasks in ${fmt(dispatchMs)} ms = ${fmt(dispatch)} tasks/s (tasks by state ${JSON.stringify(byStatus)})`,
      );
      log(costs('hive', n, before, after, polls + 4));
      const dispatchCpu = targetCpuUsPerTask(n, before, after);
      run.summary(
        `breakdown: REST ingest alone ${fmt(ingest)} POST/s (${fmt(ingestCpu)} µs Hive CPU each); ` +
          `dispatch alone ${fmt(dispatch)} tasks/s (${fmt(dispatchCpu)} µs Hive CPU each)` +
          (raw === undefined ? '' : `, ${fmt(dispatch / raw, 2)} × raw`),
      );
    });
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await run.dbs.drop(db.name);
  }
}

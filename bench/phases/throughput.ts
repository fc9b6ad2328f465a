/**
 * The throughput phase: the raw loop, then Hive in each submission mode, `rounds` times, each on a fresh database;
 * the medians of the rates and of the CPU per task, and the ratio hive ÷ raw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminClient } from '../../test/support/test-database.js';
import { BenchHive } from '../hive.js';
import { costs, profiled, profiling, readings, sampled, STATS_FLUSH_MS, targetCpuUsPerTask } from '../measure.js';
import type { PhaseContext } from '../phase.js';
import { RawLoopProcess } from '../raw-loop-process.js';
import { fmt, median } from '../stats.js';
import { taskSummary, waitUntilDrained } from '../task-table.js';
import { agentRows, requestsSeen, resetAgents, task, TASK_TYPE } from '../workload.js';

interface Throughput {
  /** tasks/s */
  rate: number;
  /** CPU of Hive (or of the raw loop) per task, µs. */
  cpuUs: number;
}

/** As Hive's dispatcher claims. */
const RAW_CLAIM_BATCH = 64;

async function rawThroughput(run: PhaseContext, round: number): Promise<Throughput> {
  const { settings, agents, log } = run;
  const db = await run.dbs.create(`raw${round}`);
  const loop = await RawLoopProcess.start(db.url, settings.rawPoolMax, RAW_CLAIM_BATCH);
  try {
    return await withAdminClient(db.url, async (pgc) => {
      for (const a of agentRows(agents, settings.agentConcurrency)) {
        await pgc.query(
          `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent) VALUES ($1, $2, $3, $4, $5)`,
          [a.id, a.endpoint, a.model, a.specialty, a.max_concurrent],
        );
      }
      const insert = (n: number) =>
        pgc.query(
          `INSERT INTO tasks (type, priority, context, max_attempts)
           SELECT $1, 3, jsonb_build_object('prompt', 'bench task ' || i), 3 FROM generate_series(1, $2) AS i`,
          [TASK_TYPE, n],
        );
      if (settings.warmup > 0) {
        await insert(settings.warmup);
        await loop.run(settings.warmup);
      }
      resetAgents(agents);
      await insert(settings.tasks);
      await pgc.query('ANALYZE tasks');
      await sleep(STATS_FLUSH_MS);
      const before = await readings(pgc, loop.pid);
      const result = await loop.run(settings.tasks);
      const { byStatus, lastCompletedMs } = await taskSummary(pgc);
      await sleep(STATS_FLUSH_MS);
      const after = await readings(pgc, loop.pid);
      const elapsedMs = lastCompletedMs - result.startedAtMs;
      const rate = (settings.tasks * 1000) / elapsedMs;
      log(
        `  raw: ${settings.tasks} tasks in ${fmt(elapsedMs)} ms = ${fmt(rate)} tasks/s ` +
          `(loop's own clock ${fmt(result.elapsedMs)} ms; ${result.completed} completed, ${result.failed} failed; ` +
          `tasks by state ${JSON.stringify(byStatus)}; agents saw ${requestsSeen(agents)} requests)`,
      );
      log(
        `  raw: ${result.claimTransactions} claim transactions (${fmt(settings.tasks / result.claimTransactions, 1)} tasks each), ` +
          `${fmt(result.statements / settings.tasks, 2)} statements per task`,
      );
      log(costs('raw', settings.tasks, before, after, 2));
      if (result.failed > 0 || result.completed !== settings.tasks)
        throw new Error('raw loop: not every task completed');
      return { rate, cpuUs: targetCpuUsPerTask(settings.tasks, before, after) };
    });
  } finally {
    await loop.stop();
    await run.dbs.drop(db.name);
  }
}

/** How the benchmark submits: one task per request, or batches. */
function submission(run: PhaseContext, batch: number) {
  return batch === 1
    ? { batch, concurrency: run.settings.clientConcurrency, label: 'one task per POST /api/tasks' }
    : { batch, concurrency: run.settings.batchConcurrency, label: `${batch} tasks per POST /api/tasks/batch` };
}

async function hiveThroughput(run: PhaseContext, round: number, batch: number): Promise<Throughput> {
  const { settings, agents, log } = run;
  const db = await run.dbs.create(`hive${round}_${batch}`);
  const { concurrency, label } = submission(run, batch);
  const hive = await BenchHive.start(db.url, { clientSockets: settings.clientConcurrency, ...profiling(settings) });
  try {
    await hive.registerAgents(agentRows(agents, settings.agentConcurrency));
    return await withAdminClient(db.url, async (pgc) => {
      if (settings.warmup > 0) {
        await hive.client.submitMany(settings.warmup, concurrency, task, batch);
        await waitUntilDrained(pgc, settings.warmup, () => requestsSeen(agents));
      }
      resetAgents(agents);
      await sleep(STATS_FLUSH_MS);
      const before = await readings(pgc, hive.pid);
      const startedAtMs = Date.now();
      const started = performance.now();
      let submitMs = NaN;
      const polls = await sampled(run, hive, () =>
        profiled(run, hive, 'throughput', settings.tasks, async () => {
          await hive.client.submitMany(settings.tasks, concurrency, (i) => task(settings.warmup + i), batch);
          submitMs = performance.now() - started;
          return waitUntilDrained(pgc, settings.warmup + settings.tasks, () => requestsSeen(agents));
        }),
      );
      const seenMs = performance.now() - started;
      const { byStatus, lastCompletedMs } = await taskSummary(pgc);
      await sleep(STATS_FLUSH_MS);
      const after = await readings(pgc, hive.pid);
      const elapsedMs = lastCompletedMs - startedAtMs;
      const rate = (settings.tasks * 1000) / elapsedMs;
      log(
        `  hive, ${label} (${concurrency} in flight): ${settings.tasks} tasks in ${fmt(elapsedMs)} ms = ${fmt(rate)} tasks/s ` +
          `(all submitted after ${fmt(submitMs)} ms = ${fmt((settings.tasks * 1000) / submitMs)} tasks/s; drain seen by polling at ${fmt(seenMs)} ms; ` +
          `tasks by state ${JSON.stringify(byStatus)}; agents saw ${requestsSeen(agents)} requests)`,
      );
      log(costs('hive', settings.tasks, before, after, polls + 2));
      if ((byStatus.completed ?? 0) !== settings.warmup + settings.tasks)
        throw new Error('hive: not every task completed');
      return { rate, cpuUs: targetCpuUsPerTask(settings.tasks, before, after) };
    });
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await run.dbs.drop(db.name);
  }
}

/** Runs the rounds and prints the summary; returns the raw loop's median rate (tasks/s), for the breakdown. */
export async function throughputPhase(run: PhaseContext): Promise<number> {
  const { settings, log, summary } = run;
  log(
    `\n== throughput: ${settings.tasks} tasks (after ${settings.warmup} warm-up), ${settings.agents} agents × ${settings.agentConcurrency}`,
  );
  const rounds: { raw: Throughput; hive: Throughput[] }[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    run.checkpoint();
    if (settings.rounds > 1) log(`  -- round ${round} of ${settings.rounds}`);
    const r = await rawThroughput(run, round);
    const h: Throughput[] = [];
    for (const batch of settings.batchSizes) {
      run.checkpoint();
      h.push(await hiveThroughput(run, round, batch));
    }
    rounds.push({ raw: r, hive: h });
    const ratios = settings.batchSizes.map((batch, i) => `batch ${batch}: ${fmt((h[i]?.rate ?? NaN) / r.rate, 2)}`);
    log(`  round ${round}: raw ${fmt(r.rate)} tasks/s; ratio hive ÷ raw, ${ratios.join(', ')}`);
  }
  const rawRate = median(rounds.map((x) => x.raw.rate));
  const rawCpu = median(rounds.map((x) => x.raw.cpuUs));
  summary(`throughput: raw ${fmt(rawRate)} tasks/s, raw loop process ${fmt(rawCpu)} µs CPU per task`);
  settings.batchSizes.forEach((batch, i) => {
    const runs = rounds.map((x) => x.hive[i]);
    const hive = median(runs.map((x) => x.rate));
    const hiveCpu = median(runs.map((x) => x.cpuUs));
    summary(
      `throughput: hive, ${submission(run, batch).label}: ${fmt(hive)} tasks/s, ratio ${fmt(hive / rawRate, 2)}` +
        (settings.rounds > 1
          ? ` (medians of ${settings.rounds} rounds; per round ${rounds.map((x) => fmt((x.hive[i]?.rate ?? NaN) / x.raw.rate, 2)).join(', ')})`
          : '') +
        `; hive process ${fmt(hiveCpu)} µs CPU per task (× ${fmt(hiveCpu / rawCpu, 1)} raw)`,
    );
  });
  return rawRate;
}

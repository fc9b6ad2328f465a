/**
 * The memory phase: one Hive process through the cumulative task counts of BENCH_MEMORY_TASKS; at each, idle and
 * settled (and after a forced GC), the median of 5 readings; the growth from the first point to the last.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminClient } from '../../test/support/test-database.js';
import { BenchHive, type MemoryReading } from '../hive.js';
import type { PhaseContext } from '../phase.js';
import { fmt, median, mib } from '../stats.js';
import { waitUntilDrained } from '../task-table.js';
import { agentRows, requestsSeen, resetAgents, task } from '../workload.js';

/** Idle, settled, (collected), then the median of 5 samples. */
async function measure(run: PhaseContext, hive: BenchHive, label: string): Promise<MemoryReading> {
  await sleep(2_000);
  if (run.settings.memoryGc) {
    await hive.collectGarbage();
    await hive.collectGarbage();
    await sleep(500);
  }
  const samples: MemoryReading[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await hive.memory());
    await sleep(200);
  }
  const reading = {
    rssBytes: median(samples.map((s) => s.rssBytes)),
    heapUsedBytes: median(samples.map((s) => s.heapUsedBytes)),
    source: samples[0]?.source ?? '',
  };
  run.log(
    `  memory after ${label}: RSS ${mib(reading.rssBytes)}, heap used ${mib(reading.heapUsedBytes)} (${reading.source})`,
  );
  return reading;
}

export async function memoryPhase(run: PhaseContext): Promise<void> {
  const { settings, agents, log } = run;
  log(`\n== memory: one Hive process through ${settings.memoryTasks.join(', ')} tasks`);
  const db = await run.dbs.create('memory');
  const hive = await BenchHive.start(db.url, { inspect: settings.memoryGc, clientSockets: settings.clientConcurrency });
  try {
    await hive.registerAgents(agentRows(agents, settings.agentConcurrency));
    await withAdminClient(db.url, async (pgc) => {
      await measure(run, hive, 'start-up (0 tasks)');
      const readingsAt: { tasks: number; reading: MemoryReading }[] = [];
      let done = 0;
      for (const target of settings.memoryTasks) {
        const n = target - done;
        const started = performance.now();
        await hive.client.submitMany(n, settings.clientConcurrency, (i) => task(done + i));
        await waitUntilDrained(pgc, target, () => requestsSeen(agents));
        log(`  ${n} more tasks in ${fmt(performance.now() - started)} ms`);
        resetAgents(agents);
        done = target;
        readingsAt.push({ tasks: target, reading: await measure(run, hive, `${target} tasks`) });
      }
      const first = readingsAt[0];
      const last = readingsAt.at(-1);
      if (first !== undefined && last !== undefined && last !== first) {
        const growth = (a: number, b: number) => `${fmt(((b - a) / a) * 100, 1)}%`;
        run.summary(
          `memory: RSS ${mib(first.reading.rssBytes)} after ${first.tasks} tasks → ${mib(last.reading.rssBytes)} after ${last.tasks} ` +
            `(${growth(first.reading.rssBytes, last.reading.rssBytes)}); heap used ${mib(first.reading.heapUsedBytes)} → ` +
            `${mib(last.reading.heapUsedBytes)} (${growth(first.reading.heapUsedBytes, last.reading.heapUsedBytes)})` +
            `${settings.memoryGc ? ', after a forced GC' : ''}`,
        );
      }
    });
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await run.dbs.drop(db.name);
  }
}

/**
 * The latency phase: idle dispatch, one task at a time, from the POST's response to the agent's request; then, with
 * Hive stopped, the floor for the same SQL: the raw loop, in this process, claims each task as soon as its INSERT
 * committed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminClient } from '../../test/support/test-database.js';
import { BenchHive } from '../hive.js';
import type { PhaseContext } from '../phase.js';
import { RawLoop } from '../raw-loop.js';
import { fmt, percentile } from '../stats.js';
import { agentRows, task, TASK_TYPE } from '../workload.js';

/** Unmeasured samples first. */
const WARM_UP = 100;

interface Sample {
  fromResponse: number;
  fromSend: number;
  post: number;
}

function show(label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    `${label}: p50 ${fmt(percentile(sorted, 50), 2)} ms, p95 ${fmt(percentile(sorted, 95), 2)} ms, ` +
    `p99 ${fmt(percentile(sorted, 99), 2)} ms, max ${fmt(sorted.at(-1) ?? NaN, 2)} ms (min ${fmt(sorted[0] ?? NaN, 2)} ms)`
  );
}

export async function latencyPhase(run: PhaseContext): Promise<void> {
  const { settings, agents, log } = run;
  log(`\n== idle latency: ${settings.latencyTasks} tasks one at a time (after ${WARM_UP} warm-up)`);
  const db = await run.dbs.create('latency');
  let waiter: ((at: number) => void) | undefined;
  const unsubscribe = agents.map((agent) =>
    agent.onRequest(() => {
      const at = performance.now();
      waiter?.(at);
      waiter = undefined;
    }),
  );
  const nextRequest = () =>
    new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('no agent request within 10 s of submitting')), 10_000);
      waiter = (at) => {
        clearTimeout(timer);
        ok(at);
      };
    });
  const warm = Math.min(WARM_UP, settings.latencyTasks);
  try {
    const hive = await BenchHive.start(db.url, { clientSockets: 1 });
    try {
      const one = async (i: number): Promise<Sample> => {
        const received = nextRequest();
        const sent = performance.now();
        const res = await hive.client.submitTask(task(i));
        const at = await received;
        return { fromResponse: at - res.at, fromSend: at - sent, post: res.at - sent };
      };
      await hive.registerAgents(agentRows(agents, settings.agentConcurrency));
      for (let i = 0; i < warm; i++) {
        await one(i);
        await sleep(settings.latencyGapMs);
      }
      const samples: Sample[] = [];
      for (let i = 0; i < settings.latencyTasks; i++) {
        samples.push(await one(warm + i));
        await sleep(settings.latencyGapMs);
      }
      const main = show(
        `latency (POST returned → agent received, ${samples.length} tasks one at a time)`,
        samples.map((s) => s.fromResponse),
      );
      log(`  ${main}`);
      log(
        `  ${show(
          '  from POST sent → agent received',
          samples.map((s) => s.fromSend),
        )}`,
      );
      log(
        `  ${show(
          '  POST round trip',
          samples.map((s) => s.post),
        )}`,
      );
      run.summary(main);
    } finally {
      const problem = await hive.stop();
      if (problem !== undefined) log(`  ${problem}`);
    }

    await withAdminClient(db.url, async (pgc) => {
      await pgc.query(`UPDATE tasks SET status = 'cancelled' WHERE status IN ('pending', 'in_progress')`);
      const loop = new RawLoop({
        databaseUrl: db.url,
        poolMax: 4,
        claimBatch: 64,
        leaseMs: 30_000,
        replicaId: 'bench-raw',
      });
      try {
        const floor: number[] = [];
        for (let i = 0; i < warm + settings.latencyTasks; i++) {
          const received = nextRequest();
          await pgc.query(`INSERT INTO tasks (type, priority, context) VALUES ($1, 3, $2)`, [
            TASK_TYPE,
            JSON.stringify(task(i).context),
          ]);
          const inserted = performance.now();
          const [at] = await Promise.all([received, loop.run(1)]);
          if (i >= warm) floor.push(at - inserted);
          await sleep(settings.latencyGapMs);
        }
        const line = show('latency floor (raw loop: INSERT committed → agent received, same claim SQL)', floor);
        log(`  ${line}`);
        run.summary(line);
      } finally {
        await loop.close();
      }
    });
  } finally {
    for (const off of unsubscribe) off();
    await run.dbs.drop(db.name);
  }
}

/**
 * The placement phase: agents that hold few models at once and take time to load one, a full queue of tasks over
 * more models than that in a skewed mix, run once with warm-first placement and once with least-loaded, each on a
 * fresh Hive, database and agents, the same task list. Model loads, task times and tasks/s of both, and the ratios.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '../../test/support/api.js';
import { waitUntil } from '../../test/support/poll.js';
import { withAdminClient } from '../../test/support/test-database.js';
import { BenchHive, extraEnv } from '../hive.js';
import { costs, readings, STATS_FLUSH_MS, targetCpuUsPerTask } from '../measure.js';
import type { PhaseContext } from '../phase.js';
import {
  emptyAgents,
  fillAgents,
  modelMix,
  placementAgentRows,
  placementModels,
  placementTask,
  startPlacementAgents,
  warmUpModels,
  zipfShares,
} from '../placement-workload.js';
import {
  ESTIMATE_SAMPLE_MS,
  LOADS_PERIOD_MS,
  modelsByAgent,
  short,
  taskTimes,
  watchRun,
} from '../placement-readings.js';
import { fmt } from '../stats.js';
import { taskSummary, waitUntilDrained } from '../task-table.js';
import { requestsSeen } from '../workload.js';

type Strategy = 'warm-first' | 'least-loaded';

/** Submitted as the throughput phase's batch mode does: 100 per POST /api/tasks/batch, 4 in flight. */
const BATCH = 100;
const BATCH_CONCURRENCY = 4;

interface Outcome {
  loads: number;
  rate: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  cpuUs: number;
}

async function runStrategy(run: PhaseContext, strategy: Strategy, mix: readonly string[]): Promise<Outcome> {
  const { log } = run;
  const settings = run.settings.placement;
  const agents = await startPlacementAgents(settings);
  const db = await run.dbs.create(`placement_${strategy.replace('-', '_')}`);
  let hive: BenchHive | undefined;
  try {
    const env: Record<string, string> = { AGENT_PLACEMENT: strategy };
    if (settings.probeMs > 0) env.AGENT_PROBE_INTERVAL_MS = String(settings.probeMs);
    hive = await BenchHive.start(db.url, { env });
    const started = hive;
    const rows = placementAgentRows(settings, agents);
    return await withAdminClient(db.url, async (pgc) => {
      const everyAgent = async (condition: string, params: unknown[] = []): Promise<boolean> => {
        const { rows: found } = await pgc.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM agents WHERE ${condition}`,
          params,
        );
        return found[0]?.n === agents.length;
      };
      // The warm-up: full agents at registration, so that its probe tells Hive how many models each holds at
      // once; then emptied, and seen empty by the next probe.
      await fillAgents(settings, agents);
      await started.registerAgents(rows);
      const held = warmUpModels(settings).length;
      await waitUntil(() => everyAgent('loaded_capacity >= $1', [held]), {
        describe: `Hive to see every agent holding ${held} models (loaded_capacity)`,
        timeoutMs: 30_000,
      });
      await emptyAgents(settings, agents);
      await waitUntil(() => everyAgent(`loaded_models = '[]'::jsonb`), {
        describe: 'a probe to find every agent empty (loaded_models [])',
        timeoutMs: 30_000 + 3 * settings.probeMs,
      });
      const loadsBefore = agents.map((a) => a.loads);
      const requestsBefore = agents.map((a) => a.requests.length);
      await sleep(STATS_FLUSH_MS);
      const before = await readings(pgc, started.pid);
      const {
        result: polls,
        agreed,
        samples,
        loadsByPeriod,
      } = await watchRun(
        started,
        agents,
        rows.map((r) => r.id),
        async () => {
          await started.client.submitMany(mix.length, BATCH_CONCURRENCY, (i) => placementTask(mix, i), BATCH);
          return waitUntilDrained(pgc, mix.length, () => requestsSeen(agents));
        },
      );
      const times = await taskTimes(pgc);
      const { byStatus } = await taskSummary(pgc);
      const perAgent = await modelsByAgent(pgc);
      await sleep(STATS_FLUSH_MS);
      const after = await readings(pgc, started.pid);
      const loads = agents.reduce((sum, a, i) => sum + a.loads - (loadsBefore[i] ?? 0), 0);
      const rate = (times.n * 1000) / (times.last_completed - times.first_created);
      log(
        `  ${strategy}: ${fmt(loads)} model loads; ${times.n} tasks in ${fmt(times.last_completed - times.first_created)} ms ` +
          `= ${fmt(rate, 1)} tasks/s; task time (created → completed) mean ${fmt(times.mean_ms)} ms, ` +
          `p50 ${fmt(times.p50_ms)} ms, p95 ${fmt(times.p95_ms)} ms; on its agent (started → completed) mean ` +
          `${fmt(times.run_mean_ms)} ms (tasks by state ${JSON.stringify(byStatus)})`,
      );
      const views = await started.api.expect<{ agents: Agent[] }>(200, 'GET', '/api/agents');
      rows.forEach((row, i) => {
        const agent = agents[i];
        const view = views.agents.find((v) => v.id === row.id);
        if (agent === undefined) return;
        log(
          `    ${row.id}: ${agent.requests.length - (requestsBefore[i] ?? 0)} tasks (${perAgent.get(row.id) ?? 'none'}), ` +
            `${agent.loads - (loadsBefore[i] ?? 0)} loads; holds [${agent.loadedModels.map(short).join(', ')}], ` +
            `Hive's estimate [${(view?.loaded_models ?? []).map(short).join(', ')}]`,
        );
      });
      log(
        `    model loads in each ${LOADS_PERIOD_MS / 1000} s since the first submission: ${loadsByPeriod.join(', ')}; ` +
          `Hive's estimate (GET /api/agents loaded_models) named what the agent held in ${agreed} of ${samples} ` +
          `samples (every ${ESTIMATE_SAMPLE_MS} ms per agent)`,
      );
      // The benchmark's own transactions: its polls, and the three reads above.
      log(costs('hive', times.n, before, after, polls + 3));
      if ((byStatus.completed ?? 0) !== mix.length) throw new Error(`${strategy}: not every task completed`);
      return {
        loads,
        rate,
        meanMs: times.mean_ms,
        p50Ms: times.p50_ms,
        p95Ms: times.p95_ms,
        cpuUs: targetCpuUsPerTask(times.n, before, after),
      };
    });
  } finally {
    const problem = await hive?.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await Promise.all(agents.map((a) => a.close()));
    await run.dbs.drop(db.name);
  }
}

export async function placementPhase(run: PhaseContext): Promise<void> {
  const { log } = run;
  const settings = run.settings.placement;
  const mix = modelMix(settings);
  const models = placementModels(settings.models);
  const shares = zipfShares(settings.models, settings.zipf);
  const drawn = models.map((m) => `${short(m)} ${mix.filter((x) => x === m).length}`).join(', ');
  log(
    `\n== placement: ${settings.tasks} tasks over ${settings.models} models, ${settings.agents} agents × max_concurrent ` +
      `${settings.agentConcurrency}, each holding ${settings.maxLoaded} models at once, ${settings.loadMs} ms a load, ` +
      `${settings.answerMs} ms an answer`,
  );
  log(
    `  mix: Zipf s = ${settings.zipf} (shares ${shares.map((s) => `${fmt(s * 100, 1)}%`).join(', ')}), seed ` +
      `${settings.seed}: ${drawn}; all submitted at once, ${BATCH} per POST /api/tasks/batch, priority 3, no type`,
  );
  log(
    `  warm-up, the same for both: each agent loads ${warmUpModels(settings).map(short).join(' and ')} before it is ` +
      `registered (the probe at registration sees it hold ${warmUpModels(settings).length}), then unloads them (keep_alive 0) ` +
      `until a probe sees it empty; measured from empty agents, AGENT_PROBE_INTERVAL_MS ` +
      `${settings.probeMs > 0 ? settings.probeMs : "Hive's default"}, TASK_WARM_WAIT_MS ` +
      `${extraEnv().TASK_WARM_WAIT_MS ?? "Hive's default (30000: a longer backlog is placed oldest first)"}`,
  );
  const outcomes = new Map<Strategy, Outcome>();
  for (const strategy of ['warm-first', 'least-loaded'] as const) {
    run.checkpoint();
    outcomes.set(strategy, await runStrategy(run, strategy, mix));
  }
  const warm = outcomes.get('warm-first');
  const plain = outcomes.get('least-loaded');
  if (warm === undefined || plain === undefined) return;
  const line = (name: string, o: Outcome) =>
    `${name} ${fmt(o.loads)} loads, ${fmt(o.rate, 1)} tasks/s, mean task ${fmt(o.meanMs / 1000, 1)} s ` +
    `(p50 ${fmt(o.p50Ms / 1000, 1)}, p95 ${fmt(o.p95Ms / 1000, 1)}), ${fmt(o.cpuUs)} µs Hive CPU per task`;
  const ratios =
    `${fmt(plain.loads / warm.loads, 1)}× fewer loads, ${fmt(warm.rate / plain.rate, 2)}× the tasks/s, ` +
    `${fmt(plain.meanMs / warm.meanMs, 2)}× shorter mean task time`;
  log(`  warm-first against least-loaded: ${ratios}`);
  run.summary(`placement: ${line('warm-first', warm)}; ${line('least-loaded', plain)}`);
  run.summary(`placement: warm-first against least-loaded: ${ratios} (target ≥ 3× fewer loads, ≥ 2× tasks/s)`);
}

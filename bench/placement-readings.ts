/**
 * What the placement phase reads after and during a run: the tasks' times and where each model ran (the tasks
 * table), and how often Hive's estimate of the agents' memory matched what they held.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Agent } from '../test/support/api.js';
import type { OllamaAgent } from '../test/support/ollama-agent.js';
import type { BenchHive } from './hive.js';

/** How often Hive's estimate (GET /api/agents loaded_models) is compared with what the agents hold. */
export const ESTIMATE_SAMPLE_MS = 500;

export interface TaskTimes {
  n: number;
  first_created: number;
  last_completed: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  run_mean_ms: number;
}

/** Completed tasks' times from the tasks table (epoch ms and ms). */
export async function taskTimes(pgc: pg.Client): Promise<TaskTimes> {
  const { rows } = await pgc.query<TaskTimes>(
    `SELECT count(*)::int AS n,
            extract(epoch FROM min(created_at))::float8 * 1000 AS first_created,
            extract(epoch FROM max(completed_at))::float8 * 1000 AS last_completed,
            avg(extract(epoch FROM completed_at - created_at))::float8 * 1000 AS mean_ms,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at))::float8 * 1000 AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at))::float8 * 1000 AS p95_ms,
            avg(extract(epoch FROM completed_at - started_at))::float8 * 1000 AS run_mean_ms
       FROM tasks WHERE status = 'completed'`,
  );
  const times = rows[0];
  if (times === undefined) throw new Error('no task times');
  return times;
}

/** Per agent: the tasks of each model it ran (`m1 412, m3 7`). */
export async function modelsByAgent(pgc: pg.Client): Promise<Map<string, string>> {
  const { rows } = await pgc.query<{ agent: string; model: string; n: number }>(
    `SELECT assigned_agent AS agent, model, count(*)::int AS n FROM tasks WHERE status = 'completed'
      GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const byAgent = new Map<string, string[]>();
  for (const r of rows) byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), `${short(r.model)} ${r.n}`]);
  return new Map([...byAgent].map(([agent, parts]) => [agent, parts.join(', ')]));
}

/** `bench-m3:7b` → `m3`, for the lines. */
export const short = (model: string): string => model.replace(/^bench-/, '').replace(/:7b$/, '');
const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((m) => b.includes(m));

/** Model loads counted in each period of this length, for the timeline. */
export const LOADS_PERIOD_MS = 10_000;

export interface RunWatch<T> {
  result: T;
  /** Samples in which Hive's estimate named the models the agent held, of `samples` (one per agent each time). */
  agreed: number;
  samples: number;
  /** Model loads started in each LOADS_PERIOD_MS since `work` began. */
  loadsByPeriod: number[];
}

/**
 * While `work` runs, every ESTIMATE_SAMPLE_MS: whether Hive's estimate of each agent's memory (GET /api/agents,
 * loaded_models) names the same models as the agent holds, and the agents' model loads so far (for a timeline).
 */
export async function watchRun<T>(
  hive: BenchHive,
  agents: readonly OllamaAgent[],
  ids: readonly string[],
  work: () => Promise<T>,
): Promise<RunWatch<T>> {
  const totalLoads = () => agents.reduce((sum, a) => sum + a.loads, 0);
  const startedAt = performance.now();
  const firstLoads = totalLoads();
  const loadsAt: number[] = []; // loads so far at the end of each period
  const noteLoads = () => {
    const period = Math.floor((performance.now() - startedAt) / LOADS_PERIOD_MS);
    loadsAt[period] = totalLoads() - firstLoads;
  };
  let running = true;
  let agreed = 0;
  let samples = 0;
  const sampler = (async () => {
    while (running) {
      await sleep(ESTIMATE_SAMPLE_MS);
      noteLoads();
      const res = await hive.api.request<{ agents: Agent[] }>('GET', '/api/agents');
      if (!running || res.status !== 200) continue;
      for (const view of res.body.agents) {
        const agent = agents[ids.indexOf(view.id)];
        if (agent === undefined) continue;
        samples += 1;
        if (sameSet(view.loaded_models, agent.loadedModels)) agreed += 1;
      }
    }
  })();
  try {
    const result = await work();
    noteLoads();
    let previous = 0;
    const loadsByPeriod = Array.from(loadsAt, (total = previous) => {
      const during = total - previous;
      previous = total;
      return during;
    });
    return { result, agreed, samples, loadsByPeriod };
  } finally {
    running = false;
    await sampler;
  }
}

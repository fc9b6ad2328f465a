/**
 * `npm run bench`: Hive's throughput beside the raw limit of its dispatch cycle, idle dispatch latency, and memory
 * growth, each against a fresh database, with zero-latency Ollama test agents. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type pg from 'pg';
import { startOllamaAgent, type OllamaAgent } from '../test/support/ollama-agent.js';
import { summarizeProfile } from './cpu-profile.js';
import { BenchHive, HIVE_MAIN, type MemoryReading } from './hive.js';
import { httpPhase } from './http-phase.js';
import { RawLoop, type RawLoopReply, type RawLoopRequest, type RawRunResult } from './raw-loop.js';
import {
  BenchDatabases,
  committedTransactions,
  envInt,
  envList,
  fmt,
  machineBusy,
  machineCpu,
  median,
  mib,
  percentile,
  postgresCpuMs,
  processCpuSplitMs,
  serverUrl,
  sleep,
  taskSummary,
  waitUntilDrained,
  withClient,
} from './support.js';

const settings = {
  tasks: envInt('BENCH_TASKS', 20_000, 1),
  /** raw then Hive, this many times, each on fresh databases: medians resist the load of a shared machine. */
  rounds: envInt('BENCH_ROUNDS', 2, 1),
  warmup: envInt('BENCH_WARMUP', 1_000, 0),
  agents: envInt('BENCH_AGENTS', 8, 1),
  agentConcurrency: envInt('BENCH_AGENT_CONCURRENCY', 8, 1),
  clientConcurrency: envInt('BENCH_CLIENT_CONCURRENCY', 32, 1),
  /** Hive's throughput is measured once per size: 1 is POST /api/tasks, more is POST /api/tasks/batch. */
  batchSizes: envList('BENCH_BATCH', ['1', '100']).map(Number),
  batchConcurrency: envInt('BENCH_BATCH_CONCURRENCY', 4, 1),
  rawPoolMax: envInt('BENCH_RAW_POOL_MAX', 30, 1),
  breakdownTasks: envInt('BENCH_BREAKDOWN_TASKS', 10_000, 1),
  latencyTasks: envInt('BENCH_LATENCY_TASKS', 500, 1),
  latencyGapMs: envInt('BENCH_LATENCY_GAP_MS', 5, 0),
  memoryTasks: envList('BENCH_MEMORY_TASKS', ['5000', '50000']).map(Number),
  memoryGc: envInt('BENCH_MEMORY_GC', 1) === 1,
  httpSeconds: envInt('BENCH_HTTP_SECONDS', 8, 1),
  httpConnections: envInt('BENCH_HTTP_CONNECTIONS', 32, 1),
  phases: new Set(envList('BENCH_PHASES', ['http', 'throughput', 'breakdown', 'latency', 'memory'])),
  /** 1: profile Hive during the measured throughput run (CPU profile + statements per task); slows it down. */
  profile: envInt('BENCH_PROFILE', 0) === 1,
  profileDir: process.env.BENCH_PROFILE_DIR ?? tmpdir(),
};
const TASK_TYPE = 'bench';
const MODEL = 'llama3:8b';
const STATS_FLUSH_MS = 1_500; // backends report to pg_stat_database about once a second
const RAW_LOOP = resolve(import.meta.dirname, 'raw-loop.js');

const log = (line: string): void => console.log(line);
const summaryLines: string[] = [];
const summary = (line: string): void => {
  summaryLines.push(line);
};

const task = (i: number) => ({ type: TASK_TYPE, priority: 3, context: { prompt: `bench task ${i}` } });

function agentRows(agents: OllamaAgent[]) {
  return agents.map((agent, i) => ({
    id: `bench-agent-${i + 1}`,
    endpoint: agent.url,
    model: MODEL,
    specialty: TASK_TYPE,
    max_concurrent: settings.agentConcurrency,
  }));
}

const requestsSeen = (agents: OllamaAgent[]): number => agents.reduce((n, a) => n + a.requests.length, 0);

/** Readings around a measured stretch: CPU of each party, machine load, transactions in the database. */
interface Readings {
  cpu: { target: number; targetSystem: number; bench: number; postgres: number };
  machine: ReturnType<typeof machineCpu>;
  xacts: number;
}

async function readings(db: pg.Client, targetPid: number | undefined): Promise<Readings> {
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

function costs(label: string, tasks: number, before: Readings, after: Readings, pollQueries: number): string {
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
async function sampled<T>(hive: BenchHive, work: () => Promise<T>): Promise<T> {
  const samples: Map<string, number>[] = [];
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
    const series = (name: string) => samples.map((m) => m.get(name)).filter((v): v is number => v !== undefined);
    const stat = (name: string, scale = 1, digits = 0) => {
      const values = series(name).map((v) => v * scale);
      if (values.length === 0) return 'n/a';
      return `median ${fmt(median(values), digits)}, max ${fmt(Math.max(...values), digits)}`;
    };
    if (samples.length > 0) {
      log(
        `  hive during the run (${samples.length} samples of /api/metrics): DB pool open ${stat('hive_db_pool_connections{state="total"}')} ` +
          `of ${series('hive_db_pool_max')[0] ?? '?'}, waiting for a connection ${stat('hive_db_pool_connections{state="waiting"}')}; ` +
          `event-loop lag p99 ${stat('nodejs_eventloop_lag_p99_seconds', 1000, 1)} ms`,
      );
    }
  }
}

/** With BENCH_PROFILE=1: a CPU profile and the statements Hive sent, over one measured stretch. */
async function profiled<T>(hive: BenchHive, label: string, tasks: number, work: () => Promise<T>): Promise<T> {
  if (!settings.profile) return work();
  const queriesBefore = await hive.queryCounts();
  await hive.startProfiler();
  const result = await work();
  const profile = await hive.stopProfiler();
  const queriesAfter = await hive.queryCounts();
  const file = resolve(settings.profileDir, `hive-${label.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  log(`  PROFILED (${label}; inspector attached, so slower than a normal run): ${file}`);
  for (const line of summarizeProfile(profile)) log(line);
  const statements = [...queriesAfter]
    .map(([shape, n]) => [shape, n - (queriesBefore.get(shape) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = statements.reduce((sum, [, n]) => sum + n, 0);
  log(`  statements Hive sent: ${fmt(total / tasks, 2)} per task`);
  for (const [shape, n] of statements.slice(0, 12)) log(`    ${fmt(n / tasks, 3).padStart(7)}/task  ${shape}`);
  return result;
}

const profiling = () => ({ inspect: settings.profile, countQueries: settings.profile });

// ---------------------------------------------------------------------------------------------------------------

interface Throughput {
  /** tasks/s */
  rate: number;
  /** CPU of Hive (or of the raw loop) per task, µs. */
  cpuUs: number;
}

async function rawThroughput(dbs: BenchDatabases, agents: OllamaAgent[], round: number): Promise<Throughput> {
  const db = await dbs.create(`raw${round}`);
  const child = spawn(process.execPath, [RAW_LOOP], {
    env: {
      PATH: process.env.PATH ?? '',
      RAW_DATABASE_URL: db.url,
      RAW_POOL_MAX: String(settings.rawPoolMax),
      RAW_CLAIM_BATCH: '64',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: RawLoopReply[] = [];
  let wake: (() => void) | undefined;
  child.on('message', (reply: RawLoopReply) => {
    replies.push(reply);
    wake?.();
  });
  const exited = once(child, 'exit');
  const next = async (): Promise<RawLoopReply> => {
    while (replies.length === 0) {
      await Promise.race([
        new Promise<void>((ok) => (wake = ok)),
        exited.then(() => Promise.reject(new Error('raw loop exited'))),
      ]);
    }
    return replies.shift() as RawLoopReply;
  };
  const run = async (expected: number): Promise<RawRunResult> => {
    child.send({ type: 'run', expected } satisfies RawLoopRequest);
    const reply = await next();
    if (reply.type === 'error') throw new Error(`raw loop failed: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`raw loop: unexpected ${reply.type}`);
    return reply.result;
  };
  try {
    return await withClient(db.url, async (pgc) => {
      for (const a of agentRows(agents)) {
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
      const ready = await next();
      if (ready.type !== 'ready') throw new Error(`raw loop: expected ready, got ${ready.type}`);
      if (settings.warmup > 0) {
        await insert(settings.warmup);
        await run(settings.warmup);
      }
      for (const agent of agents) agent.reset();
      await insert(settings.tasks);
      await pgc.query('ANALYZE tasks');
      await sleep(STATS_FLUSH_MS);
      const before = await readings(pgc, child.pid);
      const result = await run(settings.tasks);
      const { byStatus, lastCompletedMs } = await taskSummary(pgc);
      await sleep(STATS_FLUSH_MS);
      const after = await readings(pgc, child.pid);
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
      return { rate, cpuUs: ((after.cpu.target - before.cpu.target) * 1000) / settings.tasks };
    });
  } finally {
    child.send({ type: 'stop' } satisfies RawLoopRequest);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await dbs.drop(db.name);
  }
}

/** How the benchmark submits: one task per request, or batches. */
function submission(batch: number) {
  return batch === 1
    ? { batch, concurrency: settings.clientConcurrency, label: 'one task per POST /api/tasks' }
    : { batch, concurrency: settings.batchConcurrency, label: `${batch} tasks per POST /api/tasks/batch` };
}

async function hiveThroughput(
  dbs: BenchDatabases,
  agents: OllamaAgent[],
  round: number,
  batch: number,
): Promise<Throughput> {
  const db = await dbs.create(`hive${round}_${batch}`);
  const { concurrency, label } = submission(batch);
  const hive = await BenchHive.start(db.url, { clientSockets: settings.clientConcurrency, ...profiling() });
  try {
    await hive.registerAgents(agentRows(agents));
    return await withClient(db.url, async (pgc) => {
      if (settings.warmup > 0) {
        await hive.client.submitMany(settings.warmup, concurrency, task, batch);
        await waitUntilDrained(pgc, settings.warmup, () => requestsSeen(agents));
      }
      for (const agent of agents) agent.reset();
      await sleep(STATS_FLUSH_MS);
      const before = await readings(pgc, hive.pid);
      const startedAtMs = Date.now();
      const started = performance.now();
      let submitMs = NaN;
      const polls = await sampled(hive, () =>
        profiled(hive, 'throughput', settings.tasks, async () => {
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
      return { rate, cpuUs: ((after.cpu.target - before.cpu.target) * 1000) / settings.tasks };
    });
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await dbs.drop(db.name);
  }
}

/**
 * Hive's two halves apart, in one process: REST ingestion alone (agents disabled, so nothing is dispatched), then
 * dispatch alone (agents enabled again and one NOTIFY: the queue is full, as in the raw loop's run).
 */
async function breakdown(dbs: BenchDatabases, agents: OllamaAgent[], raw: number | undefined): Promise<void> {
  const n = settings.breakdownTasks;
  const db = await dbs.create('breakdown');
  const hive = await BenchHive.start(db.url, { clientSockets: settings.clientConcurrency, ...profiling() });
  try {
    await hive.registerAgents(agentRows(agents));
    await withClient(db.url, async (pgc) => {
      if (settings.warmup > 0) {
        await hive.client.submitMany(settings.warmup, settings.clientConcurrency, task);
        await waitUntilDrained(pgc, settings.warmup, () => requestsSeen(agents));
      }
      await pgc.query(`UPDATE agents SET enabled = false`);
      await sleep(STATS_FLUSH_MS);
      let before = await readings(pgc, hive.pid);
      const started = performance.now();
      await sampled(hive, () =>
        profiled(hive, 'ingest only', n, () =>
          hive.client.submitMany(n, settings.clientConcurrency, (i) => task(settings.warmup + i)),
        ),
      );
      const ingestMs = performance.now() - started;
      await sleep(STATS_FLUSH_MS);
      let after = await readings(pgc, hive.pid);
      const ingest = (n * 1000) / ingestMs;
      log(`  ingest only: ${n} POST /api/tasks in ${fmt(ingestMs)} ms = ${fmt(ingest)} POST/s (nothing dispatched)`);
      log(costs('hive', n, before, after, 0));
      const ingestCpu = ((after.cpu.target - before.cpu.target) * 1000) / n;

      for (const agent of agents) agent.reset();
      before = await readings(pgc, hive.pid);
      const startedAtMs = Date.now();
      const polls = await sampled(hive, () =>
        profiled(hive, 'dispatch only', n, async () => {
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
      const dispatchCpu = ((after.cpu.target - before.cpu.target) * 1000) / n;
      summary(
        `breakdown: REST ingest alone ${fmt(ingest)} POST/s (${fmt(ingestCpu)} µs Hive CPU each); ` +
          `dispatch alone ${fmt(dispatch)} tasks/s (${fmt(dispatchCpu)} µs Hive CPU each)` +
          (raw === undefined ? '' : `, ${fmt(dispatch / raw, 2)} × raw`),
      );
    });
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) log(`  ${problem}`);
    await dbs.drop(db.name);
  }
}

async function latency(dbs: BenchDatabases, agents: OllamaAgent[]): Promise<void> {
  const db = await dbs.create('latency');
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
  const show = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return (
      `${label}: p50 ${fmt(percentile(sorted, 50), 2)} ms, p95 ${fmt(percentile(sorted, 95), 2)} ms, ` +
      `p99 ${fmt(percentile(sorted, 99), 2)} ms, max ${fmt(sorted.at(-1) ?? NaN, 2)} ms (min ${fmt(sorted[0] ?? NaN, 2)} ms)`
    );
  };
  const warm = Math.min(100, settings.latencyTasks);
  try {
    const hive = await BenchHive.start(db.url, { clientSockets: 1 });
    try {
      const one = async (i: number): Promise<{ fromResponse: number; fromSend: number; post: number }> => {
        const received = nextRequest();
        const sent = performance.now();
        const res = await hive.client.submitTask(task(i));
        const at = await received;
        return { fromResponse: at - res.at, fromSend: at - sent, post: res.at - sent };
      };
      await hive.registerAgents(agentRows(agents));
      for (let i = 0; i < warm; i++) {
        await one(i);
        await sleep(settings.latencyGapMs);
      }
      const samples: { fromResponse: number; fromSend: number; post: number }[] = [];
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
      summary(main);
    } finally {
      const problem = await hive.stop();
      if (problem !== undefined) log(`  ${problem}`);
    }

    // The floor for the same SQL: the raw loop, in this process, claims each task as soon as its INSERT committed.
    await withClient(db.url, async (pgc) => {
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
        summary(line);
      } finally {
        await loop.close();
      }
    });
  } finally {
    for (const off of unsubscribe) off();
    await dbs.drop(db.name);
  }
}

async function memory(dbs: BenchDatabases, agents: OllamaAgent[]): Promise<void> {
  const db = await dbs.create('memory');
  const hive = await BenchHive.start(db.url, { inspect: settings.memoryGc, clientSockets: settings.clientConcurrency });
  /** Idle, settled, (collected), then the median of 5 samples. */
  const measure = async (label: string): Promise<MemoryReading> => {
    await sleep(2_000);
    if (settings.memoryGc) {
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
    log(
      `  memory after ${label}: RSS ${mib(reading.rssBytes)}, heap used ${mib(reading.heapUsedBytes)} (${reading.source})`,
    );
    return reading;
  };
  try {
    await hive.registerAgents(agentRows(agents));
    await withClient(db.url, async (pgc) => {
      await measure('start-up (0 tasks)');
      const readingsAt: { tasks: number; reading: MemoryReading }[] = [];
      let done = 0;
      for (const target of settings.memoryTasks) {
        const n = target - done;
        const started = performance.now();
        await hive.client.submitMany(n, settings.clientConcurrency, (i) => task(done + i));
        await waitUntilDrained(pgc, target, () => requestsSeen(agents));
        log(`  ${n} more tasks in ${fmt(performance.now() - started)} ms`);
        for (const agent of agents) agent.reset();
        done = target;
        readingsAt.push({ tasks: target, reading: await measure(`${target} tasks`) });
      }
      const first = readingsAt[0];
      const last = readingsAt.at(-1);
      if (first !== undefined && last !== undefined && last !== first) {
        const growth = (a: number, b: number) => `${fmt(((b - a) / a) * 100, 1)}%`;
        summary(
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
    await dbs.drop(db.name);
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const server = serverUrl();
  log(`Hive benchmark — ${new Date().toISOString()}, node ${process.version}, ${HIVE_MAIN}`);
  log(`settings: ${JSON.stringify({ ...settings, phases: [...settings.phases] })}`);
  const dbs = new BenchDatabases(server);
  const agents = await Promise.all(
    Array.from({ length: settings.agents }, () =>
      startOllamaAgent({ models: [MODEL], behavior: { kind: 'ok', delayMs: 0 } }),
    ),
  );
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping after the current measurement, then cleaning up (again to force)');
  };
  /** Between measurements: an interrupt ends the run here, and the finally blocks drop what it created. */
  const checkpoint = (): void => {
    if (interrupted) throw new Error('interrupted');
  };
  process.on('SIGINT', onSignal);
  try {
    await dbs.prepareTemplate();
    let raw: number | undefined;
    if (settings.phases.has('http')) {
      log(
        `\n== http: GET /health by wrk, ${settings.httpConnections} keep-alive connections, ${settings.httpSeconds} s per run`,
      );
      const db = await dbs.create('http');
      try {
        summary(
          await httpPhase(
            db.url,
            { seconds: settings.httpSeconds, connections: settings.httpConnections, rounds: settings.rounds },
            log,
          ),
        );
      } finally {
        await dbs.drop(db.name);
      }
    }
    if (settings.phases.has('throughput')) {
      log(
        `\n== throughput: ${settings.tasks} tasks (after ${settings.warmup} warm-up), ${settings.agents} agents × ${settings.agentConcurrency}`,
      );
      const rounds: { raw: Throughput; hive: Throughput[] }[] = [];
      for (let round = 1; round <= settings.rounds; round++) {
        checkpoint();
        if (settings.rounds > 1) log(`  -- round ${round} of ${settings.rounds}`);
        const r = await rawThroughput(dbs, agents, round);
        const h: Throughput[] = [];
        for (const batch of settings.batchSizes) {
          checkpoint();
          h.push(await hiveThroughput(dbs, agents, round, batch));
        }
        rounds.push({ raw: r, hive: h });
        const ratios = settings.batchSizes.map((batch, i) => `batch ${batch}: ${fmt((h[i]?.rate ?? NaN) / r.rate, 2)}`);
        log(`  round ${round}: raw ${fmt(r.rate)} tasks/s; ratio hive ÷ raw, ${ratios.join(', ')}`);
      }
      const rawRate = median(rounds.map((x) => x.raw.rate));
      raw = rawRate;
      const rawCpu = median(rounds.map((x) => x.raw.cpuUs));
      summary(`throughput: raw ${fmt(rawRate)} tasks/s, raw loop process ${fmt(rawCpu)} µs CPU per task`);
      settings.batchSizes.forEach((batch, i) => {
        const runs = rounds.map((x) => x.hive[i]);
        const hive = median(runs.map((x) => x.rate));
        const hiveCpu = median(runs.map((x) => x.cpuUs));
        summary(
          `throughput: hive, ${submission(batch).label}: ${fmt(hive)} tasks/s, ratio ${fmt(hive / rawRate, 2)}` +
            (settings.rounds > 1
              ? ` (medians of ${settings.rounds} rounds; per round ${rounds.map((x) => fmt((x.hive[i]?.rate ?? NaN) / x.raw.rate, 2)).join(', ')})`
              : '') +
            `; hive process ${fmt(hiveCpu)} µs CPU per task (× ${fmt(hiveCpu / rawCpu, 1)} raw)`,
        );
      });
    }
    if (settings.phases.has('breakdown')) {
      checkpoint();
      log(`\n== breakdown: ${settings.breakdownTasks} tasks submitted with the agents disabled, then dispatched`);
      await breakdown(dbs, agents, raw);
    }
    if (settings.phases.has('latency')) {
      checkpoint();
      log(`\n== idle latency: ${settings.latencyTasks} tasks one at a time (after 100 warm-up)`);
      await latency(dbs, agents);
    }
    if (settings.phases.has('memory')) {
      checkpoint();
      log(`\n== memory: one Hive process through ${settings.memoryTasks.join(', ')} tasks`);
      await memory(dbs, agents);
    }
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await dbs.dropAll();
  }
  log('\n== results');
  for (const line of summaryLines) log(line);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});

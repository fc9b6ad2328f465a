/**
 * The gateway phase: what Hive's client-facing chat APIs (Ollama's `/api/chat`, OpenAI's `/v1/chat/completions`) add
 * to a call, against the same call made straight to a zero-latency test agent (Ollama protocol), and how many calls
 * a second Hive carries with 32 in flight.
 *
 * - **Added latency**: non-streaming chats one at a time, the direct call and the two through Hive interleaved (so a
 *   burst of other work on the machine falls on all three alike); p50 and p99 of each, and through − direct of each
 *   percentile.
 * - **Added time to first token**: the same with streamed answers, timed to the first line carrying content (an
 *   NDJSON line with `message.content`, or an SSE chunk with `choices[0].delta.content`).
 * - **32 in flight**: non-streaming `/api/chat` through Hive for a fixed time, on the shared agents (by default 8 ×
 *   max_concurrent 8: 64 slots, so no call has to wait for an agent): calls/s, Hive's and PostgreSQL's CPU per call
 *   from /proc; the same load straight to the agents for reference.
 *
 * Every call through Hive is a task: the tasks table is counted after each stretch (once nothing is pending or
 * running), and must hold one completed task per call. One client class (bench/gateway-client.ts, keep-alive
 * undici) makes the direct calls and Hive's alike.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { withAdminClient } from '../../test/support/test-database.js';
import { answerProblem, ChatClient, keepInFlight, type ChatCall, type Dialect } from '../gateway-client.js';
import { BenchHive } from '../hive.js';
import { costs, profiled, profiling, readings, sampled, STATS_FLUSH_MS } from '../measure.js';
import type { PhaseContext } from '../phase.js';
import { machineBusy, machineCpu, processCpuSplitMs } from '../proc.js';
import { ADMIN_API_KEY, envInt } from '../settings.js';
import { fmt, percentile } from '../stats.js';
import { taskSummary, waitUntilDrained } from '../task-table.js';
import { agentRows, MODEL, requestsSeen, resetAgents } from '../workload.js';

/** BENCH_GATEWAY_*: read here, as only this phase uses them. */
function gatewaySettings() {
  return {
    /** Measured calls per path, one at a time (non-streaming, then streamed). */
    calls: envInt('BENCH_GATEWAY_CALLS', 2_000, 1),
    /** Unmeasured calls per path before them. */
    warmup: envInt('BENCH_GATEWAY_WARMUP', 200, 0),
    /** Calls in flight for the rate. */
    concurrency: envInt('BENCH_GATEWAY_CONCURRENCY', 32, 1),
    /** Length of the measured stretch at that concurrency, and of its unmeasured warm-up. */
    seconds: envInt('BENCH_GATEWAY_SECONDS', 10, 1),
    warmupSeconds: envInt('BENCH_GATEWAY_WARMUP_SECONDS', 2, 0),
    /** Another build's entry point, measured in the same run (its /api/chat beside this build's). */
    before: process.env.BENCH_GATEWAY_BEFORE,
  };
}

const TARGET = {
  addedP50Ms: 3,
  addedP99Ms: 10,
  addedTtftP50Ms: 3,
  rate: 1_500,
};

/** One way of making a chat call: straight to the agent, or through one of Hive's dialects. */
interface Route {
  label: string;
  client: ChatClient;
  path: string;
  dialect: Dialect;
  hive: boolean;
  /** The Hive it goes through when not the phase's own (BENCH_GATEWAY_BEFORE's). */
  through?: Bench;
}

/** What the phase works with. */
interface Bench {
  run: PhaseContext;
  hive: BenchHive;
  pgc: pg.Client;
  /** Calls sent to Hive so far by dialect, whatever their answer: each must have become a task. */
  sent: Record<Dialect, number>;
  /** Numbers the prompts, so that each answer can be checked for its own echo. */
  next: number;
}

const prompt = (i: number): string => `bench gateway ${i}`;

/** The chat body of a dialect: one user message; `stream` always explicit (Ollama's default is to stream). */
const payload = (i: number, stream: boolean) => ({
  model: MODEL,
  messages: [{ role: 'user', content: prompt(i) }],
  stream,
});

/** One call, checked: 200, no error, the end marker, the echo of its own prompt (the agent says `echo: <prompt>`). */
async function chat(phase: Bench, route: Route, stream: boolean): Promise<ChatCall> {
  const bench = route.through ?? phase;
  const i = phase.next++;
  if (route.hive) bench.sent[route.dialect]++;
  const call = await route.client.call(route.path, payload(i, stream), route.dialect, stream);
  const problem = answerProblem(call, prompt(i), route.hive);
  if (problem !== undefined) {
    throw new Error(
      `${route.label}${stream ? ' (streamed)' : ''}: ${problem}; body ${call.body.slice(0, 500)}` +
        (route.hive ? `\nHive's last lines:\n${bench.hive.output()}` : ''),
    );
  }
  return call;
}

const sortedCopy = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);
const pct = (values: readonly number[], q: number): number => percentile(sortedCopy(values), q);
const ms = (value: number, digits = 2): string => `${fmt(value, digits)} ms`;
const signedMs = (value: number): string => `${value >= 0 ? '+' : ''}${ms(value)}`;
const verdict = (value: number, target: number, atLeast = false): string =>
  (atLeast ? value >= target : value <= target) ? 'met' : 'missed';

function spread(values: readonly number[]): string {
  const sorted = sortedCopy(values);
  return (
    `p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}, ` +
    `max ${ms(sorted.at(-1) ?? NaN)} (min ${ms(sorted[0] ?? NaN)}, n=${sorted.length})`
  );
}

/**
 * `calls` calls per route, one at a time, after `warmup` unmeasured ones, the routes interleaved (their order rotated
 * every round, so none always comes first after the pause of another); returns each route's samples: the whole
 * answer for a non-streaming call, the first content for a streamed one (and the whole stream beside it).
 */
async function oneAtATime(
  bench: Bench,
  routes: readonly Route[],
  stream: boolean,
  calls: number,
  warmup: number,
): Promise<{ first: number[]; total: number[]; queueMs: number[] }[]> {
  const samples = routes.map(() => ({ first: [] as number[], total: [] as number[], queueMs: [] as number[] }));
  for (let round = 0; round < warmup + calls; round++) {
    if (round % 200 === 0) bench.run.checkpoint();
    for (let k = 0; k < routes.length; k++) {
      const at = (round + k) % routes.length;
      const [route, sample] = [routes[at], samples[at]];
      if (route === undefined || sample === undefined) continue;
      const call = await chat(bench, route, stream);
      if (round < warmup) continue;
      sample.first.push(call.firstContentMs);
      sample.total.push(call.totalMs);
      if (Number.isFinite(call.queueMs)) sample.queueMs.push(call.queueMs);
    }
  }
  return samples;
}

/** `concurrency` workers calling `route` until `seconds` have passed; the rate counts until the last answer. */
async function saturate(
  bench: Bench,
  route: Route,
  concurrency: number,
  seconds: number,
): Promise<{ calls: number; elapsedMs: number; latencies: number[]; queueMs: number[] }> {
  const stretch = await keepInFlight(concurrency, seconds, () => chat(bench, route, false));
  return { calls: stretch.latencies.length, ...stretch };
}

const sentToHive = (bench: Bench): number => bench.sent.ollama + bench.sent.openai;

/** The Hives the routes go through: the phase's own, and BENCH_GATEWAY_BEFORE's if one goes there. */
const hivesOf = (bench: Bench, routes: readonly Route[]): Bench[] => [
  bench,
  ...new Set(routes.flatMap((route) => (route.through === undefined ? [] : [route.through]))),
];

/**
 * Once nothing is pending or running: the tasks table holds exactly one completed task per call sent to Hive so far,
 * its `gateway` the dialect the call came through. Returns the line that says so; throws otherwise. Its queries are
 * the benchmark's own transactions (returned, for the costs line).
 */
async function checkTasks(bench: Bench): Promise<{ line: string; queries: number }> {
  const { pgc, run, sent } = bench;
  const calls = sentToHive(bench);
  const polls = await waitUntilDrained(pgc, calls, () => requestsSeen(run.agents));
  const { byStatus } = await taskSummary(pgc);
  const { rows } = await pgc.query<{ gateway: string | null; n: number }>(
    `SELECT gateway, count(*)::int AS n FROM tasks GROUP BY gateway`,
  );
  const byGateway = Object.fromEntries(rows.map((r) => [r.gateway ?? 'none', r.n]));
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const line =
    `${calls} calls through Hive so far (${JSON.stringify(sent)}), ${total} tasks stored: by state ` +
    `${JSON.stringify(byStatus)}, by gateway ${JSON.stringify(byGateway)}`;
  if (
    total !== calls ||
    byStatus.completed !== calls ||
    (byGateway.ollama ?? 0) !== sent.ollama ||
    (byGateway.openai ?? 0) !== sent.openai
  ) {
    throw new Error(`not one completed task per call: ${line}`);
  }
  return { line, queries: polls + 2 };
}

/** The added latency of each Hive route over the direct one (the first route): lines for the log and the summary. */
function added(
  what: string,
  routes: readonly Route[],
  samples: readonly number[][],
  p50Target: number,
  p99Target: number | undefined,
): string[] {
  const direct = samples[0] ?? [];
  return routes.slice(1).map((route, k) => {
    const through = samples[k + 1] ?? [];
    const p50 = pct(through, 50) - pct(direct, 50);
    const p99 = pct(through, 99) - pct(direct, 99);
    return (
      `gateway: added ${what}, ${route.label} − ${routes[0]?.label}: p50 ${signedMs(p50)} ` +
      `(target ≤ ${p50Target} ms — ${verdict(p50, p50Target)}), p99 ${signedMs(p99)}` +
      (p99Target === undefined ? '' : ` (target ≤ ${p99Target} ms — ${verdict(p99, p99Target)})`) +
      ` (direct p50 ${ms(pct(direct, 50))}, p99 ${ms(pct(direct, 99))}; through Hive p50 ${ms(pct(through, 50))}, ` +
      `p99 ${ms(pct(through, 99))}; n=${through.length})`
    );
  });
}

/** Non-streaming, then streamed calls one at a time; returns the summary lines. */
async function measureOneAtATime(
  bench: Bench,
  routes: readonly Route[],
  settings: ReturnType<typeof gatewaySettings>,
): Promise<string[]> {
  const { log } = bench.run;
  const summary: string[] = [];
  for (const stream of [false, true]) {
    bench.run.checkpoint();
    resetAgents(bench.run.agents);
    const kind = stream ? 'streamed' : 'non-streaming';
    const machine = machineCpu();
    const sentBefore = sentToHive(bench);
    const cpuBefore = processCpuSplitMs(bench.hive.pid);
    // With BENCH_PROFILE=1, Hive's CPU profile and statements per call over the stretch (warm-up included).
    const hiveCalls =
      (settings.warmup + settings.calls) * routes.filter((r) => r.hive && r.through === undefined).length;
    const samples = await profiled(bench.run, bench.hive, `gateway ${kind}`, hiveCalls, () =>
      oneAtATime(bench, routes, stream, settings.calls, settings.warmup),
    );
    const cpuAfter = processCpuSplitMs(bench.hive.pid);
    const busy = machineBusy(machine, machineCpu());
    const hiveCpuUs =
      ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) * 1000) / (sentToHive(bench) - sentBefore);
    log(
      `  ${kind} chat, one call at a time, ${settings.calls} per path (after ` +
        `${settings.warmup} warm-up), the paths interleaved; Hive CPU ${fmt(hiveCpuUs)} µs per call through it ` +
        `(warm-up included); machine busy ${fmt(busy * 100)}%`,
    );
    routes.forEach((route, k) => {
      const s = samples[k];
      if (s === undefined) return;
      const queued = route.hive
        ? `; x-hive-queue-ms p50 ${fmt(pct(s.queueMs, 50))}, p99 ${fmt(pct(s.queueMs, 99))} (n=${s.queueMs.length})`
        : '';
      log(
        stream
          ? `    ${route.label}, first content: ${spread(s.first)}; whole stream p50 ${ms(pct(s.total, 50))}, ` +
              `p99 ${ms(pct(s.total, 99))}${queued}`
          : `    ${route.label}: ${spread(s.total)}${queued}`,
      );
    });
    const lines = stream
      ? added(
          'time to first token',
          routes,
          samples.map((s) => s.first),
          TARGET.addedTtftP50Ms,
          undefined,
        )
      : added(
          'latency',
          routes,
          samples.map((s) => s.total),
          TARGET.addedP50Ms,
          TARGET.addedP99Ms,
        );
    for (const line of lines) log(`  ${line}`);
    summary.push(...lines.map((line) => `${line.slice(0, -1)}; machine busy ${fmt(busy * 100)}%)`));
    for (const through of hivesOf(bench, routes)) log(`    ${(await checkTasks(through)).line}`);
  }
  return summary;
}

/**
 * `concurrency` calls in flight for `seconds` (after an unmeasured warm-up): straight to the agents for reference,
 * then through Hive's `/api/chat`, with the readings around Hive's stretch; returns the summary line.
 */
async function measureRate(
  bench: Bench,
  direct: Route,
  through: Route,
  settings: ReturnType<typeof gatewaySettings>,
  profile = true,
): Promise<string> {
  const { run, hive, pgc } = bench;
  const { log } = run;
  const { concurrency, seconds, warmupSeconds } = settings;
  run.checkpoint();
  resetAgents(run.agents);
  if (warmupSeconds > 0) await saturate(bench, direct, concurrency, warmupSeconds);
  const directMachine = machineCpu();
  const directRun = await saturate(bench, direct, concurrency, seconds);
  const directBusy = machineBusy(directMachine, machineCpu());
  const directRate = (directRun.calls * 1000) / directRun.elapsedMs;
  log(
    `  ${concurrency} in flight, ${direct.label}: ${directRun.calls} calls in ${fmt(directRun.elapsedMs)} ms = ` +
      `${fmt(directRate)} calls/s; latency p50 ${ms(pct(directRun.latencies, 50))}, ` +
      `p99 ${ms(pct(directRun.latencies, 99))}; machine busy ${fmt(directBusy * 100)}%`,
  );

  run.checkpoint();
  resetAgents(run.agents);
  if (warmupSeconds > 0) await saturate(bench, through, concurrency, warmupSeconds);
  await checkTasks(bench); // the warm-up's tasks ended before the first reading
  resetAgents(run.agents);
  const tasksBefore = sentToHive(bench);
  await sleep(STATS_FLUSH_MS);
  const before = await readings(pgc, hive.pid);
  const stretch = () => saturate(bench, through, concurrency, seconds);
  const measured = await sampled(run, hive, () =>
    profile ? profiled(run, hive, `gateway ${concurrency} in flight`, (done) => done.calls, stretch) : stretch(),
  );
  const checked = await checkTasks(bench);
  await sleep(STATS_FLUSH_MS);
  const after = await readings(pgc, hive.pid);
  const { calls, elapsedMs } = measured;
  const rate = (calls * 1000) / elapsedMs;
  const perCall = (from: number, to: number): number => ((to - from) * 1000) / calls;
  const hiveCpu = perCall(before.cpu.target, after.cpu.target);
  const postgresCpu = perCall(before.cpu.postgres, after.cpu.postgres);
  const busy = machineBusy(before.machine, after.machine);
  log(
    `  ${concurrency} in flight, ${through.label}: ${calls} calls in ${fmt(elapsedMs)} ms = ${fmt(rate)} calls/s; ` +
      `latency p50 ${ms(pct(measured.latencies, 50))}, p99 ${ms(pct(measured.latencies, 99))}; ` +
      `x-hive-queue-ms p50 ${fmt(pct(measured.queueMs, 50))}, p99 ${fmt(pct(measured.queueMs, 99))}, ` +
      `max ${fmt(Math.max(...measured.queueMs))} (n=${measured.queueMs.length})`,
  );
  // The benchmark's own transactions: the drain check's, and the first reading's.
  log(costs('hive', calls, before, after, checked.queries + 1).replace('per task', 'per call'));
  log(`    ${checked.line}; ${sentToHive(bench) - tasksBefore} of them in the measured stretch`);
  return (
    `gateway: ${concurrency} in flight, ${through.label}: ${fmt(rate)} calls/s (target ≥ ${TARGET.rate.toLocaleString('en-US')} — ` +
    `${verdict(rate, TARGET.rate, true)}); Hive CPU ${fmt(hiveCpu)} µs per call, PostgreSQL ${fmt(postgresCpu)} µs; ` +
    `latency p50 ${ms(pct(measured.latencies, 50))}, p99 ${ms(pct(measured.latencies, 99))}; every call a ` +
    `completed task (${calls} in ${fmt(elapsedMs / 1000, 1)} s); straight to the agents ${fmt(directRate)} calls/s; ` +
    `machine busy ${fmt(busy * 100)}%`
  );
}

/**
 * Hive's CPU while no call is made, as a share of one core: its background work (probes, sweeps, metrics), which the
 * CPU per call of a slow stretch (one call at a time) also carries.
 */
async function restingCpu(hive: BenchHive, seconds = 3): Promise<string> {
  const before = processCpuSplitMs(hive.pid);
  const machine = machineCpu();
  await sleep(seconds * 1000);
  const after = processCpuSplitMs(hive.pid);
  const share = (after.user + after.system - before.user - before.system) / (seconds * 1000);
  return `${fmt(share * 100, 1)}% of a core over ${seconds} s; machine busy ${fmt(machineBusy(machine, machineCpu()) * 100)}%`;
}

/** BENCH_GATEWAY_BEFORE's Hive: another build on a database of its own, with the same agents registered. */
async function startBefore(run: PhaseContext, main: string): Promise<{ hive: BenchHive; pgc: pg.Client; db: string }> {
  const db = await run.dbs.create('gateway_before');
  const hive = await BenchHive.start(db.url, { clientSockets: 1, main });
  await hive.registerAgents(agentRows(run.agents, run.settings.agentConcurrency));
  const pgc = new pg.Client({ connectionString: db.url });
  await pgc.connect();
  run.log(`  comparing with another build (BENCH_GATEWAY_BEFORE): ${main}`);
  return { hive, pgc, db: db.name };
}

export async function gatewayPhase(run: PhaseContext): Promise<void> {
  const { agents, log } = run;
  const { agentConcurrency } = run.settings;
  const settings = gatewaySettings();
  const first = agents[0];
  if (first === undefined) throw new Error('the gateway phase needs at least one agent');
  log(
    `\n== gateway: chat calls through Hive's gateway (Ollama's /api/chat, OpenAI's /v1/chat/completions) against ` +
      `the same calls straight to a zero-latency test agent's /api/chat; ${agents.length} agents × max_concurrent ` +
      `${agentConcurrency} registered. One call at a time: ${settings.calls} per path (after ` +
      `${settings.warmup} warm-up), non-streaming then streamed. Then ${settings.concurrency} in flight for ` +
      `${settings.seconds} s (after ${settings.warmupSeconds} s warm-up), straight to the agents then through Hive`,
  );
  if (agents.length * agentConcurrency < settings.concurrency) {
    log(
      `  note: ${agents.length} agents × ${agentConcurrency} slots < ${settings.concurrency} in flight: ` +
        `calls through Hive will queue`,
    );
  }
  const db = await run.dbs.create('gateway');
  const clients: ChatClient[] = [];
  // The same client class and socket settings for both sides; only Hive's get its key.
  const client = (url: string, sockets: number, headers: Record<string, string> = {}): ChatClient => {
    const made = new ChatClient(url, sockets, headers);
    clients.push(made);
    return made;
  };
  try {
    const hive = await BenchHive.start(db.url, { clientSockets: 1, ...profiling(run.settings) });
    let other: Awaited<ReturnType<typeof startBefore>> | undefined;
    try {
      other = settings.before === undefined ? undefined : await startBefore(run, settings.before);
      await hive.registerAgents(agentRows(agents, agentConcurrency));
      await withAdminClient(db.url, async (pgc) => {
        const state: Bench = { run, hive, pgc, sent: { ollama: 0, openai: 0 }, next: 1 };
        const before: Bench | undefined =
          other === undefined
            ? undefined
            : { run, hive: other.hive, pgc: other.pgc, sent: { ollama: 0, openai: 0 }, next: 0 };
        // The agents all live in this process and answer at once: which one the direct calls go to makes no
        // difference, so they all go to the first.
        const routes = (sockets: number) => {
          const hiveClient = client(hive.url, sockets, { authorization: `Bearer ${ADMIN_API_KEY}` });
          const direct: Route = {
            label: "the agent's /api/chat (direct)",
            client: client(first.url, sockets),
            path: '/api/chat',
            dialect: 'ollama',
            hive: false,
          };
          const ollama: Route = {
            label: "Hive's /api/chat",
            client: hiveClient,
            path: '/api/chat',
            dialect: 'ollama',
            hive: true,
          };
          const openai: Route = {
            label: "Hive's /v1/chat/completions",
            client: hiveClient,
            path: '/v1/chat/completions',
            dialect: 'openai',
            hive: true,
          };
          const beforeOllama: Route | undefined =
            before === undefined
              ? undefined
              : {
                  label: "Hive before's /api/chat (BENCH_GATEWAY_BEFORE)",
                  client: client(before.hive.url, sockets, { authorization: `Bearer ${ADMIN_API_KEY}` }),
                  path: '/api/chat',
                  dialect: 'ollama',
                  hive: true,
                  through: before,
                };
          return { direct, ollama, openai, beforeOllama };
        };
        log(`  Hive at rest (agents registered, no calls): ${await restingCpu(hive)}`);
        const one = routes(1);
        const oneRoutes = [
          one.direct,
          one.ollama,
          one.openai,
          ...(one.beforeOllama === undefined ? [] : [one.beforeOllama]),
        ];
        const lines = await measureOneAtATime(state, oneRoutes, settings);
        const many = routes(settings.concurrency);
        lines.push(await measureRate(state, many.direct, many.ollama, settings));
        if (before !== undefined && many.beforeOllama !== undefined) {
          lines.push(await measureRate(before, many.direct, many.beforeOllama, settings, false));
        }
        for (const line of lines) run.summary(line);
      });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      for (const stopping of [hive, other?.hive]) {
        const problem = await stopping?.stop();
        if (problem !== undefined) log(`  ${problem}`);
      }
      await other?.pgc.end();
      if (other !== undefined) await run.dbs.drop(other.db);
    }
  } finally {
    resetAgents(agents);
    await run.dbs.drop(db.name);
  }
}

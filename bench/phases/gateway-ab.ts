/**
 * The gateway-ab phase: this build against another (BENCH_GATEWAY_BEFORE) in alternating stretches, for a
 * before/after comparison without the bias of measuring one after the other (bench/README.md, "Gateway, fourth
 * pass"). Both Hives run at once, each on a database of its own with the same agents registered. Each round: a
 * stretch of BENCH_GATEWAY_CONCURRENCY non-streaming `/api/chat` calls in flight for BENCH_AB_SECONDS through each
 * build, the order reversed every round (calls/s, Hive's and PostgreSQL's CPU per call); then BENCH_AB_CALLS calls
 * one at a time, alternately non-streaming and streamed, each going through both builds (their order swapped every
 * two calls, so that each kind of call goes through either build first as often) and straight to an agent (added
 * latency and added time to first token, p50). The medians of the rounds and each round's ratio are printed, and
 * the added p99s of all rounds' one-at-a-time calls pooled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { answerProblem, ChatClient, keepInFlight, type ChatCall } from '../gateway-client.js';
import { BenchHive } from '../hive.js';
import type { PhaseContext } from '../phase.js';
import { postgresCpuMs, processCpuSplitMs } from '../proc.js';
import { ADMIN_API_KEY, envInt } from '../settings.js';
import { fmt, median, percentile } from '../stats.js';
import { agentRows, MODEL, resetAgents } from '../workload.js';

/** One-at-a-time timings, ms: non-streaming calls to their end, streamed ones to their first content. */
interface Samples {
  whole: number[];
  first: number[];
}

interface Build {
  label: string;
  hive: BenchHive;
  client: ChatClient;
  rates: number[];
  hiveCpu: number[];
  postgresCpu: number[];
  addedP50: number[];
  addedTtft: number[];
  /** Every measured round's, pooled (for the p99s). */
  samples: Samples;
}

const samples = (): Samples => ({ whole: [], first: [] });
const pth = (values: number[], p: number): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    p,
  );
const p50 = (values: number[]): number => pth(values, 50);
const cpuMs = (pid: number): number => {
  const { user, system } = processCpuSplitMs(pid);
  return user + system;
};

let serial = 0;

/** One chat call, checked as the gateway phase checks its calls (answerProblem). */
async function chat(client: ChatClient, label: string, stream: boolean, fromHive = true): Promise<ChatCall> {
  const prompt = `bench ab ${++serial}`;
  const body = { model: MODEL, messages: [{ role: 'user', content: prompt }], stream };
  const call = await client.call('/api/chat', body, 'ollama', stream);
  const problem = answerProblem(call, prompt, fromHive);
  if (problem !== undefined) {
    throw new Error(`${label}${stream ? ' (streamed)' : ''}: ${problem}; body ${call.body.slice(0, 300)}`);
  }
  return call;
}

/** `concurrency` calls in flight through `build` for `seconds`; returns the calls made and the time taken. */
async function saturate(build: Build, concurrency: number, seconds: number): Promise<{ calls: number; ms: number }> {
  const stretch = await keepInFlight(concurrency, seconds, () => chat(build.client, build.label, false));
  return { calls: stretch.latencies.length, ms: stretch.elapsedMs };
}

/** One stretch at `concurrency` in flight through `build`, its figures added to the build's. */
async function rateStretch(build: Build, concurrency: number, seconds: number): Promise<void> {
  const [hiveBefore, postgresBefore] = [cpuMs(build.hive.pid), postgresCpuMs()];
  const { calls, ms } = await saturate(build, concurrency, seconds);
  const [hiveAfter, postgresAfter] = [cpuMs(build.hive.pid), postgresCpuMs()];
  build.rates.push((calls * 1000) / ms);
  build.hiveCpu.push(((hiveAfter - hiveBefore) * 1000) / calls);
  build.postgresCpu.push(((postgresAfter - postgresBefore) * 1000) / calls);
}

/** `calls` calls one at a time through both builds and straight to the agent; the timings of each way. */
async function oneAtATime(
  builds: readonly Build[],
  direct: ChatClient,
  calls: number,
): Promise<{ through: Map<Build, Samples>; straight: Samples }> {
  const through = new Map(builds.map((b) => [b, samples()]));
  const straight = samples();
  for (let i = 0; i < calls; i++) {
    const stream = i % 2 === 1;
    for (const build of i % 4 < 2 ? builds : [...builds].reverse()) {
      const call = await chat(build.client, build.label, stream);
      const seen = through.get(build);
      if (stream) seen?.first.push(call.firstContentMs);
      else seen?.whole.push(call.totalMs);
    }
    const call = await chat(direct, 'direct', stream, false);
    if (stream) straight.first.push(call.firstContentMs);
    else straight.whole.push(call.totalMs);
  }
  return { through, straight };
}

export async function gatewayAbPhase(run: PhaseContext): Promise<void> {
  const { agents, log } = run;
  const other = process.env.BENCH_GATEWAY_BEFORE;
  const first = agents[0];
  if (other === undefined || first === undefined) {
    log('\n== gateway-ab: skipped (it needs BENCH_GATEWAY_BEFORE, the entry point of the build to compare with)');
    return;
  }
  const rounds = envInt('BENCH_AB_ROUNDS', 6, 1);
  const seconds = envInt('BENCH_AB_SECONDS', 5, 1);
  const calls = envInt('BENCH_AB_CALLS', 400, 2);
  const concurrency = envInt('BENCH_GATEWAY_CONCURRENCY', 32, 1);
  log(
    `\n== gateway-ab: this build against ${other}, ${rounds} rounds: ${concurrency} /api/chat in flight for ` +
      `${seconds} s through each (the order reversed every round), then ${calls} calls one at a time through both ` +
      'and straight to an agent, alternately non-streaming and streamed',
  );
  const clients: ChatClient[] = [];
  const builds: Build[] = [];
  try {
    for (const [label, main] of [
      ['this build', undefined],
      ['before', other],
    ] as const) {
      const db = await run.dbs.create(label === 'before' ? 'gateway_ab_before' : 'gateway_ab');
      const hive = await BenchHive.start(db.url, { clientSockets: 1, main });
      const client = new ChatClient(hive.url, concurrency, { authorization: `Bearer ${ADMIN_API_KEY}` });
      clients.push(client);
      builds.push({
        label,
        hive,
        client,
        rates: [],
        hiveCpu: [],
        postgresCpu: [],
        addedP50: [],
        addedTtft: [],
        samples: samples(),
      });
      await hive.registerAgents(agentRows(agents, run.settings.agentConcurrency));
    }
    const direct = new ChatClient(first.url, concurrency);
    clients.push(direct);
    for (const build of builds) await saturate(build, concurrency, 2); // warm-up, unmeasured
    await oneAtATime(builds, direct, 100);
    const straightAll = samples();
    for (let round = 0; round < rounds; round++) {
      run.checkpoint();
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        await rateStretch(build, concurrency, seconds);
        await sleep(1_000); // the completions of the stretch written before the next one begins
      }
      const { through, straight } = await oneAtATime(builds, direct, calls);
      straightAll.whole.push(...straight.whole);
      straightAll.first.push(...straight.first);
      for (const [build, seen] of through) {
        build.addedP50.push(p50(seen.whole) - p50(straight.whole));
        build.addedTtft.push(p50(seen.first) - p50(straight.first));
        build.samples.whole.push(...seen.whole);
        build.samples.first.push(...seen.first);
      }
      log(
        `  round ${round + 1}: ` +
          builds
            .map(
              (b) =>
                `${b.label} ${fmt(b.rates.at(-1) ?? NaN)} calls/s, Hive ${fmt(b.hiveCpu.at(-1) ?? NaN)} µs and ` +
                `PostgreSQL ${fmt(b.postgresCpu.at(-1) ?? NaN)} µs per call, added p50 ` +
                `+${fmt(b.addedP50.at(-1) ?? NaN, 2)} ms, to first token +${fmt(b.addedTtft.at(-1) ?? NaN, 2)} ms`,
            )
            .join('; '),
      );
    }
    const [mine, before] = builds as [Build, Build];
    const addedP99 = (build: Build, kind: keyof Samples): string =>
      `+${fmt(pth(build.samples[kind], 99) - pth(straightAll[kind], 99), 2)}`;
    const ratios = mine.rates.map((rate, i) => fmt(rate / (before.rates[i] ?? NaN), 2)).join(', ');
    run.summary(
      `gateway-ab: ${rounds} alternating rounds, medians, this build — before: ${concurrency} in flight ` +
        `${fmt(median(mine.rates))} — ${fmt(median(before.rates))} calls/s (×${fmt(median(mine.rates) / median(before.rates), 3)}; ` +
        `each round ×${ratios}); Hive CPU ${fmt(median(mine.hiveCpu))} — ${fmt(median(before.hiveCpu))} µs per call, ` +
        `PostgreSQL ${fmt(median(mine.postgresCpu))} — ${fmt(median(before.postgresCpu))} µs; one at a time, added ` +
        `latency p50 +${fmt(median(mine.addedP50), 2)} — +${fmt(median(before.addedP50), 2)} ms, added time to ` +
        `first token p50 +${fmt(median(mine.addedTtft), 2)} — +${fmt(median(before.addedTtft), 2)} ms; all rounds ` +
        `pooled (${mine.samples.whole.length} calls of each kind a build), added latency p99 ` +
        `${addedP99(mine, 'whole')} — ${addedP99(before, 'whole')} ms, added time to first token p99 ` +
        `${addedP99(mine, 'first')} — ${addedP99(before, 'first')} ms`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    for (const build of builds) {
      const problem = await build.hive.stop();
      if (problem !== undefined) log(`  ${problem}`);
    }
    resetAgents(agents);
  }
}

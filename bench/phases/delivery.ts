/**
 * The delivery phase: how soon results reach clients that do not poll, with two Hive replicas on one database.
 * **Wait**: from the end of the agent's answer to the answer of `POST /api/tasks?wait=30`, with the client on the
 * replica that ran the task and on the other one. **Token relay**: from the agent writing a piece of a streamed
 * answer to an SSE reader of `GET /api/tasks/:id/events` receiving it, on the replica running the task (the local
 * path) and on the other (through PostgreSQL NOTIFY). The agent's moments come from a tap in front of it
 * (bench/agent-tap.ts), the clients' from the readers (bench/event-stream.ts): one clock, this process's.
 *
 * Which replica runs a task is Hive's choice (both dispatch; the one that stored a task usually claims it first, as
 * it wakes its own dispatcher in process while the other hears of it by NOTIFY), so tasks go in alternately through
 * B and A, a client waits on each replica, and every task's runner is read from the database (`lease_owner`, while
 * the agent holds its call) rather than assumed: each answer is counted as on the runner or on the other replica.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { TOKEN_CHANNEL } from '../../libs/database/src/queue/queue-payloads.js';
import { startOllamaAgent, type AgentBehavior, type OllamaAgent } from '../../test/support/ollama-agent.js';
import { withAdminClient } from '../../test/support/test-database.js';
import { markedText, markersIn, startAgentTap, type AgentTap } from '../agent-tap.js';
import { readEvents, type EventReader } from '../event-stream.js';
import { BenchHive } from '../hive.js';
import { HiveClient } from '../hive-client.js';
import type { PhaseContext } from '../phase.js';
import { machineBusy, machineCpu } from '../proc.js';
import { ADMIN_API_KEY, envInt } from '../settings.js';
import { fmt, percentile } from '../stats.js';
import { MODEL, TASK_TYPE } from '../workload.js';

/** BENCH_DELIVERY_*: read here, as only this phase uses them. */
function deliverySettings() {
  return {
    /** Waited-for tasks (each with a POST ?wait client and a GET ?wait client on the other replica). */
    waits: envInt('BENCH_DELIVERY_TASKS', 200, 1),
    /** Streamed tasks, each read on both replicas. */
    streams: envInt('BENCH_DELIVERY_STREAMS', 100, 1),
    /** Words, so pieces, per streamed answer. */
    words: envInt('BENCH_DELIVERY_WORDS', 20, 1),
    /** The agent's pause between pieces (test agent's chunkDelayMs). */
    pieceMs: envInt('BENCH_DELIVERY_PIECE_MS', 20, 0),
  };
}

/** Unmeasured rounds first: Hive's and this process's code paths warm. */
const WARMUP_WAITS = 10;
const WARMUP_STREAMS = 5;
/** Words of a waited-for task's answer. */
const WAIT_WORDS = 5;
/** After the GET ?wait was sent: time for it to reach the other replica and start waiting, before the agent answers. */
const SETTLE_MS = 25;
const WAIT_S = 30;
const TIMEOUT_MS = 30_000;
const REPLICA_IDS = { A: 'delivery-a', B: 'delivery-b' } as const;
const AGENT_ID = 'delivery-agent';

type ReplicaName = keyof typeof REPLICA_IDS;

interface Replica {
  name: ReplicaName;
  id: string;
  hive: BenchHive;
  client: HiveClient;
}

interface Response {
  status: number;
  body: Record<string, unknown>;
  /** performance.now() when the whole answer had arrived. */
  at: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** What the phase works with. */
interface Bench {
  log(line: string): void;
  agent: OllamaAgent;
  tap: AgentTap;
  pgc: pg.Client;
  a: Replica;
  b: Replica;
  /** Gates of agent calls not yet released: opened on the way out, so that no call hangs Hive's shutdown. */
  gates: Set<Deferred>;
  /** Task numbers, the `t<n>` of the markers. */
  next: number;
  /** performance.now() when the hive_tokens NOTIFY carrying a marker reached this process. */
  notified: Map<string, number>;
}

/** A request on the replica's keep-alive sockets, JSON in and out. */
async function send(replica: Replica, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Response> {
  const res = await replica.client.request(method, path, payload);
  const body = typeof res.body === 'object' && res.body !== null ? res.body : { text: res.body };
  return { ...res, body: body as Record<string, unknown> };
}

async function created(replica: Replica, path: string, payload: unknown): Promise<Response> {
  const res = await send(replica, 'POST', path, payload);
  if (res.status !== 201) throw new Error(`POST ${path} on ${replica.name} answered ${res.status}: ${show(res.body)}`);
  return res;
}

const show = (value: unknown): string => JSON.stringify(value).slice(0, 500);

const newTask = (prompt: string, extra: Record<string, unknown> = {}) => ({
  type: TASK_TYPE,
  priority: 3,
  context: { prompt },
  ...extra,
});

/** Gated agent behaviours, in the order the agent's next calls take them. */
function gated(bench: Bench, ...behaviors: ((gate: Promise<void>) => AgentBehavior)[]): Deferred[] {
  const gates: Deferred[] = [];
  const queued = behaviors.map((make) => {
    const gate = deferred();
    gates.push(gate);
    bench.gates.add(gate);
    return make(gate.promise);
  });
  bench.agent.queueBehaviors(...queued);
  return gates;
}

function release(bench: Bench, gate: Deferred | undefined): void {
  if (gate === undefined) return;
  gate.resolve();
  bench.gates.delete(gate);
}

/** The replica holding the lease of task `id` while it runs (the agent holds its call). */
async function runnerOf(bench: Bench, id: string): Promise<string> {
  const { rows } = await bench.pgc.query<{ lease_owner: string | null }>(
    `SELECT lease_owner FROM tasks WHERE status = 'in_progress' AND id = $1`,
    [id],
  );
  const owner = rows[0]?.lease_owner;
  if (owner === undefined || owner === null) throw new Error(`task ${id} is not running`);
  return owner;
}

interface WaitSample {
  /** POST /api/tasks?wait= (the client that submitted it) or GET /api/tasks/:id?wait= (another client). */
  via: 'POST' | 'GET';
  client: ReplicaName;
  runner: string;
  ms: number;
}

/** A waited-for answer: the task as GET shows it, ended. */
function ended(res: Response, what: string, n: number): Response {
  if (
    res.status !== 200 ||
    res.body.status !== 'completed' ||
    !JSON.stringify(res.body.result ?? null).includes(markedText(n, 1))
  ) {
    throw new Error(
      `${what} answered ${res.status} without the completed task (is the build older than the delivery feature?): ` +
        show(res.body),
    );
  }
  return res;
}

/**
 * One waited-for task: submitted with `POST /api/tasks?wait=30` through `submitter`, and waited for by a second
 * client with `GET /api/tasks/:id?wait=30` on the other replica. The agent holds the call while the runner (its
 * lease) and the id are read and the GET is sent (and given SETTLE_MS to be under way); then it answers, and each
 * client's answer is timed from the end of the agent's answer.
 */
async function waitSample(bench: Bench, submitter: Replica): Promise<WaitSample[]> {
  const { agent, tap, pgc } = bench;
  const other = submitter === bench.a ? bench.b : bench.a;
  const n = bench.next++;
  const before = agent.requests.length;
  const [gate] = gated(bench, (g) => ({ kind: 'ok', gate: g }));
  try {
    const prompt = markedText(n, WAIT_WORDS);
    const posted = send(submitter, 'POST', `/api/tasks?wait=${WAIT_S}`, newTask(prompt));
    posted.catch(() => undefined); // awaited below; a failure on the way there must not go unhandled
    await agent.waitForRequests(before + 1, TIMEOUT_MS);
    if (agent.requests[before]?.prompt !== prompt) throw new Error(`the agent's call was not task ${n}'s`);
    const { rows } = await pgc.query<{ id: string; lease_owner: string | null }>(
      `SELECT id, lease_owner FROM tasks WHERE status = 'in_progress' AND context->>'prompt' = $1`,
      [prompt],
    );
    const { id, lease_owner: runner } = rows[0] ?? {};
    if (id === undefined || runner === undefined || runner === null) throw new Error(`task ${n} is not running`);
    const got = send(other, 'GET', `/api/tasks/${id}?wait=${WAIT_S}`);
    got.catch(() => undefined);
    await sleep(SETTLE_MS);
    release(bench, gate);
    const post = ended(await posted, `POST /api/tasks?wait=${WAIT_S}`, n);
    const get = ended(await got, `GET /api/tasks/:id?wait=${WAIT_S}`, n);
    const end = tap.endSeen(n);
    if (end === undefined) throw new Error(`the tap did not see the end of task ${n}'s answer`);
    return [
      { via: 'POST', client: submitter.name, runner, ms: post.at - end },
      { via: 'GET', client: other.name, runner, ms: get.at - end },
    ];
  } finally {
    release(bench, gate);
  }
}

/** One piece as a reader saw it: when it left the agent, when its NOTIFY reached this process, when it arrived. */
interface Piece {
  wrote: number;
  /** NaN when no NOTIFY carried it (seen by this process's own LISTEN hive_tokens). */
  notified: number;
  at: number;
}

interface StreamSample {
  runner: string;
  /** Per reader: the pieces it received, those it missed, and its completed event's lag after the agent's end. */
  readers: { replica: ReplicaName; pieces: Piece[]; missing: number; completedMs: number }[];
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One streamed task, submitted through `submitter`, read by one SSE reader on each replica. The agent holds the call
 * until both readers have their first status event, then writes its pieces `pieceMs` apart.
 */
async function streamSample(bench: Bench, submitter: Replica, words: number, pieceMs: number): Promise<StreamSample> {
  const { agent, tap } = bench;
  const n = bench.next++;
  const before = agent.requests.length;
  const [gate] = gated(bench, (g) => ({ kind: 'ok', gate: g, chunkDelayMs: pieceMs }));
  const readers: { replica: Replica; reader: EventReader }[] = [];
  try {
    const prompt = markedText(n, words);
    const submitted = await created(submitter, '/api/tasks', newTask(prompt, { stream: true }));
    const id = String(submitted.body.id);
    await agent.waitForRequests(before + 1, TIMEOUT_MS);
    for (const replica of [bench.a, bench.b]) {
      readers.push({ replica, reader: await readEvents(`${replica.hive.url}/api/tasks/${id}/events`, ADMIN_API_KEY) });
    }
    await Promise.all(readers.map(({ reader }) => reader.waitFor((e) => e.event === 'status', TIMEOUT_MS)));
    const runner = await runnerOf(bench, id);
    release(bench, gate);
    await within(
      Promise.all(readers.map(({ reader }) => reader.closed)),
      TIMEOUT_MS,
      `the event streams of task ${id} to end`,
    );
    const end = tap.endSeen(n);
    const expected = markersIn(prompt);
    return {
      runner,
      readers: readers.map(({ replica, reader }) => {
        const pieces = new Map<string, Piece>();
        for (const event of reader.events) {
          if (event.event !== 'token') continue;
          const { content } = JSON.parse(event.data) as { content?: string };
          for (const m of markersIn(content ?? '')) {
            const wrote = tap.firstSeen(m);
            if (wrote === undefined || pieces.has(m)) continue;
            pieces.set(m, { wrote, notified: bench.notified.get(m) ?? NaN, at: event.at });
          }
        }
        const completed = reader.events.find(
          (e) => e.event === 'status' && (JSON.parse(e.data) as { status?: string }).status === 'completed',
        );
        return {
          replica: replica.name,
          pieces: [...pieces.values()],
          missing: expected.filter((m) => !pieces.has(m)).length,
          completedMs: completed === undefined || end === undefined ? NaN : completed.at - end,
        };
      }),
    };
  } finally {
    release(bench, gate);
    for (const { reader } of readers) reader.close();
  }
}

const spread = (values: number[]): string => {
  const sorted = [...values].sort((x, y) => x - y);
  const p = (q: number) => fmt(percentile(sorted, q), 1);
  return `p50 ${p(50)} ms, p95 ${p(95)} ms, p99 ${p(99)} ms, max ${fmt(sorted.at(-1) ?? NaN, 1)} ms (n=${sorted.length})`;
};

const pct = (values: number[], q: number): number =>
  percentile(
    [...values].sort((x, y) => x - y),
    q,
  );

/** `delivery-a 3, delivery-b 397`: how often each value occurs. */
function count(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v} ${n}`).join(', ');
}

/** The wait: `tasks` waited-for tasks, submitted alternately through B and A; returns the summary line. */
async function measureWait(bench: Bench, tasks: number): Promise<string> {
  const { log, a, b } = bench;
  for (let i = 0; i < WARMUP_WAITS; i++) await waitSample(bench, i % 2 === 0 ? b : a);
  const samples: WaitSample[] = [];
  const machine = machineCpu();
  for (let i = 0; i < tasks; i++) samples.push(...(await waitSample(bench, i % 2 === 0 ? b : a)));
  const busy = machineBusy(machine, machineCpu());
  const onRunner = (s: WaitSample) => REPLICA_IDS[s.client] === s.runner;
  const posts = samples.filter((s) => s.via === 'POST');
  const same = samples.filter(onRunner);
  const other = samples.filter((s) => !onRunner(s));
  const viaCounts = (list: WaitSample[]) => count(list.map((s) => s.via));
  log(`  ${tasks} tasks run by ${count(posts.map((s) => s.runner))}; machine busy ${fmt(busy * 100)}%`);
  for (const via of ['POST', 'GET'] as const) {
    for (const [label, list] of [
      ['on the replica that ran the task', same],
      ['on the other replica', other],
    ] as const) {
      const times = list.filter((s) => s.via === via).map((s) => s.ms);
      if (times.length > 0) log(`  wait, ${via} ?wait=${WAIT_S}, client ${label}: ${spread(times)}`);
    }
  }
  const all = posts.map((s) => s.ms);
  const sameMs = same.map((s) => s.ms);
  const otherMs = other.map((s) => s.ms);
  return (
    `delivery: wait answer after the agent's last token p50 ${ms(pct(all, 50))}, p99 ${ms(pct(all, 99))} ` +
    `(n=${all.length} POST ?wait; client on the replica that ran it: p50 ${ms(pct(sameMs, 50))}, ` +
    `p99 ${ms(pct(sameMs, 99))}, n=${same.length} (${viaCounts(same)}); on the other: p50 ${ms(pct(otherMs, 50))}, ` +
    `p99 ${ms(pct(otherMs, 99))}, n=${other.length} (${viaCounts(other)}); other ÷ same p50 ` +
    `${fmt(pct(otherMs, 50) / pct(sameMs, 50), 2)}; machine busy ${fmt(busy * 100)}%)`
  );
}

/**
 * The token relay: `streams` streamed tasks, submitted alternately through B and A, each read on both replicas;
 * returns the summary lines. This process LISTENs on hive_tokens too: when a relayed piece's NOTIFY reached it splits
 * the other replica's figure into the running replica's side (agent → NOTIFY delivered, the ~25 ms batching
 * included) and the reading replica's (NOTIFY → SSE reader).
 */
async function measureRelay(bench: Bench, streams: number, words: number, pieceMs: number): Promise<string[]> {
  const { log, a, b } = bench;
  for (let i = 0; i < WARMUP_STREAMS; i++) await streamSample(bench, i % 2 === 0 ? b : a, words, pieceMs);
  const samples: StreamSample[] = [];
  const machine = machineCpu();
  for (let i = 0; i < streams; i++) samples.push(await streamSample(bench, i % 2 === 0 ? b : a, words, pieceMs));
  const busy = machineBusy(machine, machineCpu());
  const side = (other: boolean) => {
    const readers = samples.flatMap((s) => s.readers.filter((r) => (REPLICA_IDS[r.replica] !== s.runner) === other));
    const pieces = readers.flatMap((r) => r.pieces);
    return {
      streams: readers.length,
      ms: pieces.map((p) => p.at - p.wrote),
      toNotify: pieces.map((p) => p.notified - p.wrote).filter(Number.isFinite),
      fromNotify: pieces.map((p) => p.at - p.notified).filter(Number.isFinite),
      missing: readers.reduce((sum, r) => sum + r.missing, 0),
      completed: readers.map((r) => r.completedMs).filter(Number.isFinite),
    };
  };
  const other = side(true);
  const same = side(false);
  log(`  ${streams} streams run by ${count(samples.map((s) => s.runner))}; machine busy ${fmt(busy * 100)}%`);
  for (const [label, s] of [
    ['on the other replica', other],
    ['on the replica running the task', same],
  ] as const) {
    log(
      `  token relay agent → SSE reader ${label}: ${spread(s.ms)} over ${s.streams} streams, ${s.missing} pieces ` +
        `missed; completed event after the agent's last line: ${spread(s.completed)}`,
    );
  }
  log(
    `    of which agent → its NOTIFY delivered (the running replica, batching and PostgreSQL): ${spread(other.toNotify)}; ` +
      `NOTIFY delivered → SSE reader on the other replica: ${spread(other.fromNotify)}`,
  );
  const p99 = pct(other.ms, 99);
  return [
    `delivery: token relay agent → SSE reader on the other replica p50 ${ms(pct(other.ms, 50))}, p99 ${ms(p99)} ` +
      `(${other.ms.length} pieces of ${other.streams} streams, ${other.missing} missed; target ≤ 60 ms p99 — ` +
      `${p99 <= 60 ? 'met' : 'missed'}; machine busy ${fmt(busy * 100)}%); on the replica running it ` +
      `p50 ${ms(pct(same.ms, 50))}, p99 ${ms(pct(same.ms, 99))} (${same.ms.length} pieces)`,
    `delivery: completed event on the other replica after the agent's last line p50 ${ms(pct(other.completed, 50))}, ` +
      `p99 ${ms(pct(other.completed, 99))}; on the replica running it p50 ${ms(pct(same.completed, 50))}, ` +
      `p99 ${ms(pct(same.completed, 99))}`,
  ];
}

const ms = (value: number): string => `${fmt(value, 1)} ms`;

export async function deliveryPhase(run: PhaseContext): Promise<void> {
  const { log } = run;
  const settings = deliverySettings();
  log(
    `\n== delivery: two Hive replicas (A, B) on one database, one test agent (max_concurrent 1) behind a tap in ` +
      `this process. Wait: ${settings.waits} tasks, submitted alternately through B and A with POST /api/tasks?wait=` +
      `${WAIT_S}, each also awaited with GET /api/tasks/:id?wait=${WAIT_S} on the other replica. Token relay: ` +
      `${settings.streams} streamed tasks, submitted alternately through B and A, ${settings.words} pieces ` +
      `${settings.pieceMs} ms apart, one SSE reader on each replica. The replica running each task is read from its lease`,
  );
  const agent = await startOllamaAgent({ models: [MODEL], behavior: { kind: 'ok' } });
  const tap = await startAgentTap(agent.url);
  const db = await run.dbs.create('delivery');
  const replicas: Replica[] = [];
  const gates = new Set<Deferred>();
  const start = async (name: ReplicaName): Promise<Replica> => {
    const hive = await BenchHive.start(db.url, { env: { HIVE_REPLICA_ID: REPLICA_IDS[name] } });
    const replica = { name, id: REPLICA_IDS[name], hive, client: new HiveClient(hive.url, ADMIN_API_KEY, 8) };
    replicas.push(replica);
    return replica;
  };
  try {
    // Which replica runs each task is left to Hive (see the top of this file).
    const b = await start('B');
    await b.hive.registerAgents([
      { id: AGENT_ID, endpoint: tap.url, model: MODEL, specialty: TASK_TYPE, max_concurrent: 1 },
    ]);
    const a = await start('A');
    await withAdminClient(db.url, async (pgc) => {
      const notified = new Map<string, number>();
      pgc.on('notification', ({ payload }) => {
        const at = performance.now();
        for (const m of markersIn(payload ?? '')) if (!notified.has(m)) notified.set(m, at);
      });
      await pgc.query(`LISTEN ${TOKEN_CHANNEL}`);
      const bench: Bench = { log, agent, tap, pgc, a, b, gates, next: 1, notified };
      run.checkpoint();
      const wait = await measureWait(bench, settings.waits);
      run.checkpoint();
      const relay = await measureRelay(bench, settings.streams, settings.words, settings.pieceMs);
      for (const line of [wait, ...relay]) run.summary(line);
    });
  } finally {
    for (const gate of gates) gate.resolve();
    for (const replica of replicas) {
      replica.client.close();
      const problem = await replica.hive.stop();
      if (problem !== undefined) log(`  replica ${replica.name}: ${problem}`);
    }
    await tap.close();
    await agent.close();
    await run.dbs.drop(db.name);
  }
}

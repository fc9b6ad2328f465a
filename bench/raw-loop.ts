/**
 * The raw limit: Hive's dispatch cycle written as a plain loop with `pg` and `node:http`, nothing else (no Nest, no
 * TypeORM, no axios, no metrics, no logging, no REST API). It runs the statements Hive runs, imported from Hive's
 * task store, so that the reference cannot drift from them:
 *
 *   claim    one transaction of CLAIM_SQL (libs/database/src/stores/tasks/claim.sql.ts): lock the available agents
 *            FOR UPDATE, count their running tasks, take pending tasks per type with FOR UPDATE SKIP LOCKED
 *            (priority, then age), mark them in_progress with a lease; the least-loaded agent for each is picked
 *            here, between the statements, as Hive's planner does it;
 *   call     POST {endpoint}/api/generate, stream: false, over a keep-alive socket pool per agent;
 *   complete COMPLETE_SQL (complete.sql.ts) with one row, once per task: store the result while the lease is held,
 *            refresh the agent's last_seen. Hive's CompletionWriter gives it the results that arrived meanwhile
 *            together; the raw loop keeps one statement per task.
 *
 * One claimer at a time, woken by every completion, claiming up to 64 per transaction (as Hive's dispatcher does), so
 * the concurrency is the agents' capacity. Run as a child process of the benchmark (raw-loop-process.ts; IPC: `run`
 * → `result`), so that it has a process of its own, like Hive.
 *
 * The libs are imported by relative path: the benchmark is compiled by plain tsc, which does not rewrite Hive's
 * `@hive/*` aliases. For the same reason the placement is not planClaim (libs/coordinator/src/dispatch/placement.ts):
 * its type imports through `@hive/database` would pull the whole lib into the benchmark's build.
 */
import { Agent as HttpAgent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { CLAIM_SQL } from '../libs/database/src/stores/tasks/claim.sql.js';
import type { ClaimableAgent, ClaimedTask, PendingTask } from '../libs/database/src/stores/tasks/claim.types.js';
import { COMPLETE_SQL } from '../libs/database/src/stores/tasks/complete.sql.js';
import { TRANSITION_SQL } from '../libs/database/src/stores/tasks/transitions.sql.js';
import { sqlLiteral } from '../libs/database/src/sql/sql-literal.js';
import type { Statement } from '../libs/database/src/sql/statement.js';

/** A query as Hive's Sql sends it: a store's statement by name (prepared once per connection), plain text else. */
const prepared = (sql: Statement | string, values: unknown[]): pg.QueryConfig =>
  typeof sql === 'string' ? { text: sql, values } : { name: sql.name, text: sql.text, values };

export interface RawLoopSettings {
  databaseUrl: string;
  /** pg pool size: Hive's default DB_POOL_SIZE + DB_POOL_MAX_OVERFLOW = 30. */
  poolMax: number;
  claimBatch: number;
  leaseMs: number;
  replicaId: string;
}

export interface RawRunResult {
  completed: number;
  failed: number;
  /** Epoch ms at which the run began (compared with max(completed_at) in the database). */
  startedAtMs: number;
  elapsedMs: number;
  claimTransactions: number;
  statements: number;
  cpuMs: number;
}

export type RawLoopRequest = { type: 'run'; expected: number } | { type: 'stop' };
export type RawLoopReply =
  { type: 'ready' } | { type: 'result'; result: RawRunResult } | { type: 'error'; message: string };

/** The least-loaded agent with a free slot, avoiding the previous attempt's: Hive's pickAgent (placement.ts). */
function pickAgent(
  candidates: ClaimableAgent[],
  load: Map<string, number>,
  avoid: string | null,
): ClaimableAgent | undefined {
  let best: ClaimableAgent | undefined;
  let bestScore = Infinity;
  for (const agent of candidates) {
    const running = load.get(agent.id) ?? 0;
    if (running >= agent.max_concurrent) continue;
    const score = running / agent.max_concurrent + (agent.id === avoid ? 1 : 0);
    if (score < bestScore) [best, bestScore] = [agent, score];
  }
  return best;
}

function post(agent: HttpAgent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/api/generate',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class RawLoop {
  private readonly settings: RawLoopSettings;
  private readonly pool: pg.Pool;
  private readonly sockets = new Map<string, HttpAgent>();
  private wakeRequested = false;
  private looping = false;
  private target = 0;
  private completed = 0;
  private failed = 0;
  private lastFinishedAt = 0;
  private claimTransactions = 0;
  private statements = 0;
  /** Connections on which the claim's opening statements are prepared; those on which its assign is. */
  private readonly preparedOn = new WeakSet<pg.PoolClient>();
  private readonly assignPreparedOn = new WeakSet<pg.PoolClient>();
  private finishedAll: (() => void) | undefined;
  private failure: ((error: unknown) => void) | undefined;

  constructor(settings: RawLoopSettings) {
    this.settings = settings;
    this.pool = new pg.Pool({
      connectionString: settings.databaseUrl,
      max: settings.poolMax,
      application_name: 'hive-bench-raw',
    });
  }

  /** Processes tasks until `expected` have finished (they must already be in the table). */
  async run(expected: number): Promise<RawRunResult> {
    this.target = expected;
    this.completed = 0;
    this.failed = 0;
    this.claimTransactions = 0;
    this.statements = 0;
    const cpuBefore = process.cpuUsage();
    const startedAtMs = Date.now();
    const started = performance.now();
    const done = new Promise<void>((ok, fail) => {
      this.finishedAll = ok;
      this.failure = fail;
    });
    this.wake();
    await done;
    while (this.looping) await sleep(1);
    const cpu = process.cpuUsage(cpuBefore);
    return {
      completed: this.completed,
      failed: this.failed,
      startedAtMs,
      elapsedMs: this.lastFinishedAt - started,
      claimTransactions: this.claimTransactions,
      statements: this.statements,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  async close(): Promise<void> {
    for (const agent of this.sockets.values()) agent.destroy();
    await this.pool.end();
  }

  private wake(): void {
    this.wakeRequested = true;
    if (!this.looping) void this.loop();
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.wakeRequested) {
        this.wakeRequested = false;
        let claimed: ClaimedTask[];
        do {
          claimed = await this.claim(this.settings.claimBatch);
          for (const task of claimed) void this.execute(task);
        } while (claimed.length === this.settings.claimBatch);
      }
    } catch (error) {
      this.failure?.(error);
    } finally {
      this.looping = false;
    }
  }

  /** The claim transaction of TaskStore.claim, statement for statement. */
  private async claim(limit: number): Promise<ClaimedTask[]> {
    const db = await this.pool.connect();
    this.claimTransactions += 1;
    const query = async <R extends pg.QueryResultRow>(
      sql: Statement | string,
      params: unknown[] = [],
    ): Promise<R[]> => {
      this.statements += 1;
      return (await db.query<R>(prepared(sql, params))).rows;
    };
    try {
      // BEGIN, the agents locked and their load counted: one round trip, as Sql.transaction's `opening` sends them
      // (the two statements prepared once per connection, generic plans, no bitmap scans, no wait for the disk at
      // COMMIT).
      this.statements += 1;
      const opening = [CLAIM_SQL.lockAgents, CLAIM_SQL.countLoad];
      const prepare = this.preparedOn.has(db) ? [] : opening.map((s) => `PREPARE "${s.name}" AS ${s.text}`);
      const opened = (await db.query(
        [
          'BEGIN',
          ...prepare,
          'SET LOCAL synchronous_commit TO off',
          'SET LOCAL plan_cache_mode TO force_generic_plan',
          'SET LOCAL enable_bitmapscan TO off',
          ...opening.map((s) => `EXECUTE "${s.name}"`),
        ].join(';\n'),
      )) as unknown as pg.QueryResult[];
      this.preparedOn.add(db);
      const agents = (opened.at(-2)?.rows ?? []) as ClaimableAgent[];
      const claimed: ClaimedTask[] = [];
      let committed = false;
      if (agents.length > 0) {
        const loadRows = (opened.at(-1)?.rows ?? []) as { id: string; running: number }[];
        const load = new Map(loadRows.map((r) => [r.id, r.running]));
        const bySpecialty = new Map<string, ClaimableAgent[]>();
        const free = new Map<string, number>();
        for (const agent of agents) {
          bySpecialty.set(agent.specialty, [...(bySpecialty.get(agent.specialty) ?? []), agent]);
          const slots = Math.max(0, agent.max_concurrent - (load.get(agent.id) ?? 0));
          free.set(agent.specialty, (free.get(agent.specialty) ?? 0) + slots);
        }
        const wanted = [...free]
          .filter(([, slots]) => slots > 0)
          .map(([type, slots]) => [type, Math.min(slots, limit)] as const);
        if (wanted.length > 0) {
          // $1 types, $2 models ('': the agents' default), $3 slots per route, $4 limit
          const pending = await query<PendingTask>(CLAIM_SQL.takePending, [
            wanted.map(([type]) => type),
            wanted.map(() => ''),
            wanted.map(([, slots]) => slots),
            limit,
          ]);
          const placed: { task: PendingTask; agent: ClaimableAgent }[] = [];
          for (const task of pending) {
            const agent = pickAgent(bySpecialty.get(task.type) ?? [], load, task.previous_agent);
            if (agent === undefined) continue;
            load.set(agent.id, (load.get(agent.id) ?? 0) + 1);
            placed.push({ task, agent });
          }
          if (placed.length > 0) {
            // $1 task ids, $2 agent ids, $3 replica, $4 lease ms; returns the payloads. Sent with COMMIT, prepared
            // once per connection, as Sql.transaction's rowsThenCommit does.
            this.statements += 1;
            const assign = `"${CLAIM_SQL.assign.name}"`;
            const values = [
              placed.map((p) => p.task.id),
              placed.map((p) => p.agent.id),
              this.settings.replicaId,
              this.settings.leaseMs,
            ].map(sqlLiteral);
            const results = (await db.query(
              [
                ...(this.assignPreparedOn.has(db) ? [] : [`PREPARE ${assign} AS ${CLAIM_SQL.assign.text}`]),
                `EXECUTE ${assign}(${values.join(', ')})`,
                'COMMIT',
              ].join(';\n'),
            )) as unknown as pg.QueryResult[];
            this.assignPreparedOn.add(db);
            committed = true;
            const payloads = (results.at(-2)?.rows ?? []) as Pick<
              ClaimedTask,
              'id' | 'context' | 'input' | 'stream' | 'gateway' | 'event_seq'
            >[];
            const payloadOf = new Map(payloads.map((p) => [p.id, p]));
            for (const { task, agent } of placed) {
              const {
                context = {},
                input = null,
                stream = false,
                gateway = null,
                event_seq = 0,
              } = payloadOf.get(task.id) ?? {};
              const attempts = task.attempts + 1;
              claimed.push({
                ...task,
                context,
                input,
                stream,
                gateway,
                event_seq,
                attempts,
                agent,
                runModel: agent.model,
              });
            }
          }
        }
      }
      if (!committed) await query('COMMIT');
      return claimed;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }

  private socketPool(agent: ClaimableAgent): HttpAgent {
    let pool = this.sockets.get(agent.id);
    if (pool === undefined) {
      pool = new HttpAgent({
        keepAlive: true,
        maxSockets: agent.max_concurrent + 1,
        maxFreeSockets: agent.max_concurrent,
      });
      this.sockets.set(agent.id, pool);
    }
    return pool;
  }

  private async execute(task: ClaimedTask): Promise<void> {
    try {
      const prompt = typeof task.context.prompt === 'string' ? task.context.prompt : `Task: ${task.type}`;
      const body = JSON.stringify({ model: task.agent.model, prompt, stream: false });
      const res = await post(this.socketPool(task.agent), new URL(task.agent.endpoint), body);
      const answer: unknown = JSON.parse(res.text);
      if (res.status !== 200 || answer === null || typeof answer !== 'object')
        throw new Error(`HTTP ${res.status}: ${res.text}`);
      const a = answer as Record<string, unknown>;
      if (typeof a.response !== 'string' || a.done !== true) throw new Error('malformed answer');
      const result = {
        response: a.response,
        model: typeof a.model === 'string' ? a.model : '',
        done_reason: typeof a.done_reason === 'string' ? a.done_reason : null,
        prompt_eval_count: count(a.prompt_eval_count),
        eval_count: count(a.eval_count),
        total_duration: count(a.total_duration),
        eval_duration: count(a.eval_duration),
      };
      // One row: $1 task ids, $2 results, $3 agent ids, $4 replica id.
      this.statements += 1;
      await this.pool.query(
        prepared(COMPLETE_SQL, [[task.id], [JSON.stringify(result)], [task.agent.id], this.settings.replicaId]),
      );
      this.completed += 1;
    } catch (error) {
      // $1 task id, $2 agent id, $3 replica id, $4 error (a failure ends the run: every task must complete)
      this.failed += 1;
      this.statements += 1;
      await this.pool
        .query(prepared(TRANSITION_SQL.fail, [task.id, task.agent.id, this.settings.replicaId, String(error)]))
        .catch((e: unknown) => this.failure?.(e));
    }
    this.lastFinishedAt = performance.now();
    if (this.completed + this.failed >= this.target) this.finishedAll?.();
    else this.wake();
  }
}

/** Child-process entry: settings from the environment, work on request over IPC. */
function main(): void {
  const send = (reply: RawLoopReply): void => void process.send?.(reply);
  const loop = new RawLoop({
    databaseUrl: process.env.RAW_DATABASE_URL ?? '',
    poolMax: Number(process.env.RAW_POOL_MAX ?? 30),
    claimBatch: Number(process.env.RAW_CLAIM_BATCH ?? 64),
    leaseMs: Number(process.env.RAW_LEASE_MS ?? 30_000),
    replicaId: process.env.RAW_REPLICA_ID ?? 'bench-raw',
  });
  process.on('message', (message: RawLoopRequest) => {
    if (message.type === 'run') {
      loop.run(message.expected).then(
        (result) => send({ type: 'result', result }),
        (error: unknown) =>
          send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
    } else {
      void loop.close().finally(() => process.disconnect());
    }
  });
  send({ type: 'ready' });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}

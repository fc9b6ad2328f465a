import { InternalServerError } from 'openai';
import { startHiveFixture, type HiveFixture } from './support/hive-fixture.js';
import {
  DIALECT_STREAMS,
  expectStreamErrorEvent,
  Gateway,
  newGate,
  rejectionOf,
  type Dialect,
  type Gate,
  type Seen,
} from './support/gateway-world.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { pollUntil, waitUntil } from './support/poll.js';
import { createKey } from './support/test-keys.js';

/** Each test's Hive has its own database: one model and one agent are enough. */
const MODEL = 'stopping:1b';
const AGENT_ID = 'stopping-agent';

/** A task as the stopped Hive left it in its database (its API went with it). */
interface TaskRow {
  id: string;
  status: string;
  gateway: Dialect | null;
  attempts: number;
}

/** A test's Hive, the one agent serving MODEL with a single slot, and the clients of an operator key. */
interface Stage {
  fx: HiveFixture;
  agent: OllamaAgent;
  gateway: Gateway;
}

/** A shutdown under way: `closed` settles once Hive has stopped; `hasClosed()` tells whether it has yet. */
interface Shutdown {
  closed: Promise<void>;
  hasClosed(): boolean;
}

/**
 * Hives that the tests stop themselves, one per test (a stopped Hive serves no other test), with the gates and
 * calls afterEach ends before it closes what is left: gates first, so that a drain left waiting ends at once.
 */
function stoppingHives() {
  let fx: HiveFixture | undefined;
  let scope = new AbortController();
  let gates: Gate[] = [];
  let background: Promise<unknown>[] = [];

  afterEach(async () => {
    for (const g of gates) g.open();
    scope.abort(); // a call a failed test left open
    await Promise.allSettled(background);
    const left = fx;
    fx = undefined;
    scope = new AbortController();
    gates = [];
    background = [];
    await left?.close();
  });

  const inBackground = <T>(call: Promise<T>): Promise<T> => {
    background.push(call.catch(() => undefined));
    return call;
  };

  return {
    inBackground,
    /** A Hive of this test's own (FAST_COORDINATOR_ENV: a 2 s grace, unless `env` says otherwise) and its agent. */
    async start(env: Record<string, string> = {}): Promise<Stage> {
      fx = await startHiveFixture(env);
      const { key } = await createKey(fx.hive.url, 'operator', 'gateway client');
      const agent = await fx.agents.start({ models: [MODEL] });
      await fx.api.registerAgent({
        id: AGENT_ID,
        endpoint: agent.url,
        specialty: AGENT_ID,
        model: MODEL,
        max_concurrent: 1,
      });
      return { fx, agent, gateway: new Gateway(fx.hive.url, key, () => scope.signal) };
    },
    /** A gate that afterEach opens if the test did not. */
    gate: (): Gate => newGate(gates),
    /** Begins to stop Hive as SIGTERM does (app.close()), without waiting for it to end. */
    shutDown(stage: Stage): Shutdown {
      let done = false;
      const closed = inBackground(stage.fx.hive.close().then(() => void (done = true)));
      return { closed, hasClosed: () => done };
    },
  };
}

/** Waits until `count` calls wait in the queue (read through the API, so before the shutdown). */
async function waitForQueued(stage: Stage, count: number): Promise<void> {
  await pollUntil(
    () => stage.fx.api.listTasks({ model: MODEL, status: 'pending' }),
    (list) => list.filtered === count,
    { describe: `${count} pending task(s) of ${MODEL}` },
  );
}

/** The tasks as the database holds them, oldest first. */
const tasksIn = (stage: Stage): Promise<TaskRow[]> =>
  stage.fx.db.query<TaskRow>('SELECT id, status, gateway, attempts FROM tasks ORDER BY created_at');

/** A stopping replica's refusal, in the dialect's shape: 503 and a Retry-After, so that the client tries another. */
function expectReplicaStopping(dialect: Dialect, error: unknown, seen: Seen): void {
  if (dialect === 'openai') {
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'replica_stopping' });
    expect((error as InternalServerError).headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  } else {
    expect(error).toMatchObject({ name: 'ResponseError', status_code: 503 });
    // Hive's own words, not those of a server that no longer answers (Fastify's "Service Unavailable").
    expect((error as Error).message).toMatch(/shutting down/);
    expect(seen.headers?.get('retry-after')).toMatch(/^[1-9]\d*$/);
  }
}

describe('gateway: what a stopping Hive does with its open calls (in-process Hive per test, real PostgreSQL, real agents)', () => {
  const w = stoppingHives();

  it.each(DIALECT_STREAMS)(
    '%s (stream: %s): a call waiting in the queue is refused with 503 replica_stopping as shutdown begins, not at the end of the grace; its task is cancelled',
    async (dialect, stream) => {
      const stage = await w.start();
      const slot = w.gate();
      // The agent's only slot is held by a REST task until the gate opens.
      stage.agent.queueBehaviors({ kind: 'ok', gate: slot.promise });
      await stage.fx.api.submitTask({ model: MODEL, context: { prompt: 'holder' } });
      await stage.agent.waitForRequests(1);
      const seen: Seen = { pieces: [] };
      const queued = w.inBackground(stage.gateway.chat(dialect, MODEL, 'queued', { stream, seen }));
      await waitForQueued(stage, 1);

      const shutdown = w.shutDown(stage);
      const error = await rejectionOf(queued);
      // The held slot keeps Hive draining until its gate opens or the grace ends: the refusal did not wait for that.
      expect(shutdown.hasClosed()).toBe(false);
      expectReplicaStopping(dialect, error, seen);
      expect(seen.pieces).toEqual([]);
      slot.open();
      await shutdown.closed;

      // The refused call never reached the agent, and nothing is left in the queue for another replica to run.
      expect(stage.agent.requests).toHaveLength(1);
      const calls = (await tasksIn(stage)).filter((t) => t.gateway !== null);
      expect(calls).toMatchObject([{ gateway: dialect, status: 'cancelled', attempts: 0 }]);
    },
  );

  it.each(DIALECT_STREAMS)(
    '%s (stream: %s): a call running here whose agent answers within SHUTDOWN_GRACE_MS gets its whole answer; its task is completed',
    async (dialect, stream) => {
      const stage = await w.start();
      const answer = w.gate();
      stage.agent.queueBehaviors({ kind: 'ok', gate: answer.promise });
      const seen: Seen = { pieces: [] };
      const running = w.inBackground(stage.gateway.chat(dialect, MODEL, 'finish me', { stream, seen }));
      await stage.agent.waitForRequests(1);
      // A call queued behind it: its refusal tells that the gateway has gone through its open calls.
      const witness = w.inBackground(stage.gateway.chat('openai', MODEL, 'witness'));
      await waitForQueued(stage, 1);

      const shutdown = w.shutDown(stage);
      await expect(rejectionOf(witness)).resolves.toMatchObject({ status: 503, code: 'replica_stopping' });
      answer.open();
      await expect(running).resolves.toBe('echo: finish me');
      await shutdown.closed;

      expect(seen.headers?.get('x-hive-agent')).toBe(AGENT_ID);
      const taskId = seen.headers?.get('x-hive-task-id');
      const task = (await tasksIn(stage)).find((t) => t.id === taskId);
      expect(task).toMatchObject({ status: 'completed', gateway: dialect, attempts: 1 });
      expect(stage.agent.requests).toHaveLength(1);
    },
  );

  it.each<Dialect>(['openai', 'ollama'])(
    '%s: a call running here whose agent does not answer within SHUTDOWN_GRACE_MS gets 503 replica_stopping; its agent call is closed and its task cancelled',
    async (dialect) => {
      const stage = await w.start();
      const never = w.gate();
      stage.agent.queueBehaviors({ kind: 'ok', gate: never.promise });
      const seen: Seen = { pieces: [] };
      const running = w.inBackground(stage.gateway.chat(dialect, MODEL, 'too slow', { seen }));
      await stage.agent.waitForRequests(1);

      const shutdown = w.shutDown(stage);
      expectReplicaStopping(dialect, await rejectionOf(running), seen);
      await stage.agent.waitForAborts(1);
      await shutdown.closed;

      // Cancelled, not pending: nobody waits for its answer any more.
      expect(await tasksIn(stage)).toMatchObject([{ gateway: dialect, status: 'cancelled' }]);
      expect(stage.agent.requests).toHaveLength(1);
    },
  );

  it.each<Dialect>(['openai', 'ollama'])(
    '%s (stream): an answer under way that its agent does not finish within SHUTDOWN_GRACE_MS ends with the dialect’s error event after the pieces sent; its task is cancelled',
    async (dialect) => {
      const stage = await w.start();
      // The first piece comes at once, the next one a minute later.
      stage.agent.queueBehaviors({ kind: 'ok', response: 'one two three', chunkDelayMs: 60_000 });
      const seen: Seen = { pieces: [] };
      const running = w.inBackground(stage.gateway.chat(dialect, MODEL, 'x', { stream: true, seen }));
      await waitUntil(() => seen.pieces.join('') === 'one ', {
        describe: 'the first piece to reach the client',
        state: () => seen.pieces,
      });

      const shutdown = w.shutDown(stage);
      const error = await rejectionOf(running);
      expect(seen.pieces.join('')).toBe('one ');
      expectStreamErrorEvent(dialect, error);
      expect((error as Error).message).toMatch(/shutting down/);
      await stage.agent.waitForAborts(1);
      await shutdown.closed;

      expect(await tasksIn(stage)).toMatchObject([{ gateway: dialect, status: 'cancelled' }]);
      expect(stage.agent.requests).toHaveLength(1);
    },
  );

  it('a call made once the replica is stopping is refused with 503 replica_stopping in each dialect, storing no task', async () => {
    // Hive answers until its drain ends, which the running call's gate decides here, not the clock: a grace far
    // longer than the test needs keeps the server listening however slow the machine.
    const stage = await w.start({ SHUTDOWN_GRACE_MS: '10000' });
    const answer = w.gate();
    stage.agent.queueBehaviors({ kind: 'ok', gate: answer.promise });
    const running = w.inBackground(stage.gateway.chat('openai', MODEL, 'running'));
    await stage.agent.waitForRequests(1);
    const witness = w.inBackground(stage.gateway.chat('openai', MODEL, 'witness'));
    await waitForQueued(stage, 1);

    const shutdown = w.shutDown(stage);
    // The queued call's refusal tells that the gateway is stopping: what comes after it is a new call to a stopping
    // replica.
    await expect(rejectionOf(witness)).resolves.toMatchObject({ status: 503, code: 'replica_stopping' });
    for (const [dialect, stream] of DIALECT_STREAMS) {
      const seen: Seen = { pieces: [] };
      expectReplicaStopping(
        dialect,
        await rejectionOf(stage.gateway.chat(dialect, MODEL, 'late', { stream, seen })),
        seen,
      );
    }
    expect(shutdown.hasClosed()).toBe(false);
    answer.open();
    await expect(running).resolves.toBe('echo: running');
    await shutdown.closed;

    // The running call and the refused queued one; the calls made after were refused before anything was stored.
    const tasks = await tasksIn(stage);
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'cancelled']);
    expect(stage.agent.requests).toHaveLength(1);
  });
});

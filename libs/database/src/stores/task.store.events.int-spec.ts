import { randomUUID } from 'node:crypto';
import { waitUntil } from '../../../../test/support/poll.js';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import { parseTaskIds, TASK_CHANNEL, WEBHOOK_CHANNEL } from '../queue/queue-payloads.js';
import type { ClaimedTask } from './tasks/claim.types.js';
import type { HeldTask, NewTask, TaskEvent } from './tasks/task.types.js';

/** A notification a raw listening connection heard. */
interface Notice {
  channel: string;
  payload: string;
}

/**
 * What a change of a task's state writes besides the state (stores/tasks/task-events.sql.ts), on a real PostgreSQL:
 * the event appended to its history, the hive_task notice sent at commit, and the webhook queued when it ends.
 */
describe('TaskStore (status history, notices, webhooks)', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';
  const url = 'https://hooks.example.test/hive';

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** Claims every due task of `type` its agents have room for, under `replicaId`. */
  const claimAll = async (type: string, leaseMs = 60_000): Promise<ClaimedTask[]> =>
    (await world.tasks.claim(replicaId, leaseMs, 500, plannerFor([type], 500))).tasks;

  const heldOf = (task: ClaimedTask): HeldTask => ({ taskId: task.id, agentId: task.agent.id, replicaId });

  /** A type of its own with agents of `slots`, one task of it submitted and claimed by `replicaId`. */
  async function runningTask(options: { slots?: number[]; task?: Partial<NewTask>; leaseMs?: number } = {}) {
    const { type, agents } = await registerType(world, options.slots ?? [1]);
    const submitted = await world.tasks.submit(newTask(type, options.task));
    if (submitted === undefined) throw new Error('the task was not stored');
    const claimed = await claimAll(type, options.leaseMs);
    expect(claimed.map((t) => t.id)).toEqual([submitted.id]);
    return { type, agents, id: submitted.id, claimed: claimed[0], held: heldOf(claimed[0]) };
  }

  async function eventsOf(id: string): Promise<TaskEvent[]> {
    const [task] = await world.tasks.withEvents([id]);
    if (task === undefined) throw new Error(`task ${id} is not in the table`);
    return task.events;
  }

  /** Seqs count 1..n in order, each event has an ISO time, and the times never go back. */
  function expectWellFormed(events: readonly TaskEvent[]): void {
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const times = events.map((e) => Date.parse(e.at));
    for (const time of times) expect(Number.isNaN(time)).toBe(false);
    for (let i = 1; i < times.length; i += 1) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
  }

  const at = expect.any(String) as unknown as string;

  const webhookRows = (id: string) =>
    world.sql<{ task_id: string; url: string; status: string; attempts: number }>(
      `SELECT task_id, url, status, attempts FROM webhook_deliveries WHERE task_id = $1`,
      [id],
    );

  /**
   * A raw connection listening on hive_task and hive_webhook, and what it heard. `settle()` sends a marker and waits
   * for it: notices arrive in commit order, so by then every notice committed before it (and any unexpected one)
   * is in.
   */
  async function listen() {
    const client = await world.client();
    const notices: Notice[] = [];
    client.on('notification', (msg) => notices.push({ channel: msg.channel, payload: msg.payload ?? '' }));
    await client.query(`LISTEN ${TASK_CHANNEL}; LISTEN ${WEBHOOK_CHANNEL}`);

    const taskIdsIn = (from: number): string[] =>
      notices
        .slice(from)
        .filter((n) => n.channel === TASK_CHANNEL && !n.payload.startsWith('marker-'))
        .flatMap((n) => parseTaskIds(n.payload));

    return {
      notices,
      /** The task ids of the hive_task notices heard since position `from`. */
      taskIdsIn,
      /** Waits for a hive_task notice naming `id`, heard since position `from`. */
      async notified(id: string, from: number): Promise<void> {
        await waitUntil(() => taskIdsIn(from).includes(id), {
          describe: `a ${TASK_CHANNEL} notice naming task ${id}`,
          state: () => notices.slice(from),
        });
      },
      /** Sends a marker and answers the notices heard since `from` before it. */
      async settle(from: number): Promise<Notice[]> {
        const marker = `marker-${randomUUID()}`;
        await world.sql(`SELECT pg_notify($1, $2)`, [TASK_CHANNEL, marker]);
        await waitUntil(() => notices.some((n) => n.payload === marker), {
          describe: `the marker ${marker}`,
          state: () => notices.slice(from),
        });
        const end = notices.findIndex((n) => n.payload === marker);
        return notices.slice(from, end);
      },
    };
  }

  describe('the status history', () => {
    it('submit, submitBatch and submitEach start it with one pending event', async () => {
      const { type } = await registerType(world);
      const one = await world.tasks.submit(newTask(type));
      const batch = await world.tasks.submitBatch([newTask(type), newTask(type)]);
      const each = await world.tasks.submitEach([newTask(type), newTask(`unserved-${randomUUID()}`)]);
      const ids = [one?.id, ...batch.map((t) => t.id), each[0]?.id].map((id) => id ?? '');
      expect(ids.every((id) => id !== '')).toBe(true);

      const tasks = await world.tasks.withEvents(ids);

      expect(tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
      for (const task of tasks) expect(task.events).toEqual([{ seq: 1, status: 'pending', at }]);
    });

    it('claim, retry, a second claim and completion each append their event, and each is notified', async () => {
      const { type, agents } = await registerType(world);
      const agent = agents[0].id;
      const listener = await listen();
      const id = (await world.tasks.submit(newTask(type)))?.id ?? '';
      await expect(eventsOf(id)).resolves.toEqual([{ seq: 1, status: 'pending', at }]);

      let from = listener.notices.length;
      const [first] = await claimAll(type);
      expect(first).toMatchObject({ id, attempts: 1, event_seq: 2 });
      await listener.notified(id, from);
      await expect(eventsOf(id)).resolves.toEqual([
        { seq: 1, status: 'pending', at },
        { seq: 2, status: 'in_progress', at, agent, attempt: 1 },
      ]);

      from = listener.notices.length;
      await expect(world.tasks.retry(heldOf(first), 'server busy', 0)).resolves.toBe(true);
      await listener.notified(id, from);
      const afterRetry = await eventsOf(id);
      expect(afterRetry[2]).toEqual({
        seq: 3,
        status: 'retrying',
        at,
        error: 'server busy',
        agent,
        attempt: 1,
        retry_at: at,
      });
      expect(Date.parse(afterRetry[2].retry_at ?? '')).toBe(Date.parse(afterRetry[2].at));

      from = listener.notices.length;
      const [second] = await claimAll(type);
      expect(second).toMatchObject({ id, attempts: 2, event_seq: 4 });
      await listener.notified(id, from);

      from = listener.notices.length;
      const stored = await world.tasks.completeBatch(replicaId, [{ taskId: id, agentId: agent, result: { ok: 1 } }]);
      expect([...stored]).toEqual([id]);
      await listener.notified(id, from);

      const events = await eventsOf(id);
      expect(events).toEqual([
        { seq: 1, status: 'pending', at },
        { seq: 2, status: 'in_progress', at, agent, attempt: 1 },
        afterRetry[2],
        { seq: 4, status: 'in_progress', at, agent, attempt: 2 },
        { seq: 5, status: 'completed', at, agent, attempt: 2 },
      ]);
      expectWellFormed(events);
    });

    it('retry records when the task is due again', async () => {
      const { id, held } = await runningTask();

      await expect(world.tasks.retry(held, 'timeout', 90_000)).resolves.toBe(true);

      const retrying = (await eventsOf(id))[2];
      expect(retrying).toMatchObject({ seq: 3, status: 'retrying', error: 'timeout', attempt: 1 });
      expect(Date.parse(retrying.retry_at ?? '') - Date.parse(retrying.at)).toBe(90_000);
    });

    it('fail appends failed with the error, the agent and the attempt, and is notified', async () => {
      const { id, agents, held } = await runningTask();
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.fail(held, 'model not found')).resolves.toBe(true);

      await listener.notified(id, from);
      const events = await eventsOf(id);
      expect(events[2]).toEqual({
        seq: 3,
        status: 'failed',
        at,
        error: 'model not found',
        agent: agents[0].id,
        attempt: 1,
      });
      expect(events).toHaveLength(3);
      expectWellFormed(events);
    });

    it.each([
      { when: 'another agent can run it and attempts are left', slots: [1, 1], max_attempts: 3, to: 'pending' },
      { when: 'no other agent can run it', slots: [1], max_attempts: 3, to: 'failed' },
      { when: 'it was the last attempt', slots: [1, 1], max_attempts: 1, to: 'failed' },
    ] as const)('reroute when $when → $to, its event and its notice', async ({ slots, max_attempts, to }) => {
      const { id, held } = await runningTask({ slots: [...slots], task: { max_attempts } });
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.reroute(held, 'model not served')).resolves.toBe(to);

      await listener.notified(id, from);
      const events = await eventsOf(id);
      expect(events[2]).toEqual({
        seq: 3,
        status: to === 'pending' ? 'retrying' : 'failed',
        at,
        error: 'model not served',
        agent: held.agentId,
        attempt: 1,
      });
      expectWellFormed(events);
    });

    it('release (shutdown) appends pending with the reason and the agent, and the next claim counts on', async () => {
      const { type, id, held } = await runningTask();
      const listener = await listen();
      let from = listener.notices.length;

      await expect(world.tasks.release(held)).resolves.toBe(true);

      await listener.notified(id, from);
      await expect(eventsOf(id)).resolves.toEqual([
        { seq: 1, status: 'pending', at },
        { seq: 2, status: 'in_progress', at, agent: held.agentId, attempt: 1 },
        { seq: 3, status: 'pending', at, reason: 'its replica stopped', agent: held.agentId },
      ]);
      from = listener.notices.length;
      const [again] = await claimAll(type);
      expect(again).toMatchObject({ id, attempts: 1, event_seq: 4 });
      await listener.notified(id, from);
      const events = await eventsOf(id);
      expect(events[3]).toEqual({ seq: 4, status: 'in_progress', at, agent: held.agentId, attempt: 1 });
      expectWellFormed(events);
    });

    it('force-removing its agent appends pending with the reason, and is notified', async () => {
      const { id, held } = await runningTask();
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.agents.remove(held.agentId, true)).resolves.toEqual({ outcome: 'removed', requeued: 1 });

      await listener.notified(id, from);
      const events = await eventsOf(id);
      expect(events[2]).toEqual({
        seq: 3,
        status: 'pending',
        at,
        reason: 'its agent was removed',
        agent: held.agentId,
      });
      expectWellFormed(events);
    });

    it.each([
      { max_attempts: 3, status: 'pending', event: 'retrying' },
      { max_attempts: 1, status: 'failed', event: 'failed' },
    ] as const)(
      'reap of an expired lease with max_attempts $max_attempts appends $event, and is notified',
      async ({ max_attempts, status, event }) => {
        const { type, id, held } = await runningTask({ task: { max_attempts }, leaseMs: 60_000, slots: [1] });
        await world.sql(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
        const listener = await listen();
        const from = listener.notices.length;

        const reaped = await world.tasks.reap();

        expect(reaped.filter((r) => r.id === id)).toEqual([{ id, type, status }]);
        await listener.notified(id, from);
        const events = await eventsOf(id);
        expect(events[2]).toEqual({
          seq: 3,
          status: event,
          at,
          error: `lease expired: replica ${replicaId} stopped renewing it`,
          agent: held.agentId,
          attempt: 1,
        });
        expectWellFormed(events);
      },
    );

    it('cancel of a pending task appends cancelled, and is notified', async () => {
      const { type } = await registerType(world);
      const id = (await world.tasks.submit(newTask(type)))?.id ?? '';
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.cancel(id)).resolves.toEqual({ type, was: 'pending' });

      await listener.notified(id, from);
      await expect(eventsOf(id)).resolves.toEqual([
        { seq: 1, status: 'pending', at },
        { seq: 2, status: 'cancelled', at },
      ]);
    });

    it('cancel of a running task appends cancelled, and is notified', async () => {
      const { type, id, held } = await runningTask();
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.cancel(id)).resolves.toEqual({ type, was: 'in_progress' });

      await listener.notified(id, from);
      const events = await eventsOf(id);
      expect(events).toEqual([
        { seq: 1, status: 'pending', at },
        { seq: 2, status: 'in_progress', at, agent: held.agentId, attempt: 1 },
        { seq: 3, status: 'cancelled', at },
      ]);
      expectWellFormed(events);
    });

    it('a long history keeps its seqs 1..n in order', async () => {
      const { type, agents } = await registerType(world);
      const agent = agents[0].id;
      const id = (await world.tasks.submit(newTask(type, { max_attempts: 10 })))?.id ?? '';
      for (let round = 1; round <= 4; round += 1) {
        const [claimed] = await claimAll(type);
        expect(claimed).toMatchObject({ id, event_seq: 2 * round });
        await expect(world.tasks.retry(heldOf(claimed), `error ${round}`, 0)).resolves.toBe(true);
      }
      const [last] = await claimAll(type);
      await expect(world.tasks.release(heldOf(last))).resolves.toBe(true);
      const [final] = await claimAll(type);
      expect(final.event_seq).toBe(12);
      await expect(world.tasks.fail(heldOf(final), 'gave up')).resolves.toBe(true);

      const events = await eventsOf(id);

      expect(events.map((e) => e.status)).toEqual([
        'pending',
        ...Array.from({ length: 4 }, () => ['in_progress', 'retrying']).flat(),
        'in_progress',
        'pending',
        'in_progress',
        'failed',
      ]);
      expect(events.filter((e) => e.status === 'in_progress').map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 5]);
      expect(events.every((e) => e.status === 'pending' || e.agent === agent)).toBe(true);
      expectWellFormed(events);
    });

    it('withEvents answers the tasks that exist among the ids, with their view and history', async () => {
      const a = await runningTask();
      const { type } = await registerType(world);
      const b = (await world.tasks.submit(newTask(type, { stream: true, callback_url: url })))?.id ?? '';

      const tasks = await world.tasks.withEvents([a.id, b, randomUUID()]);

      const byId = new Map(tasks.map((t) => [t.id, t]));
      expect([...byId.keys()].sort()).toEqual([a.id, b].sort());
      expect(byId.get(a.id)).toMatchObject({
        status: 'in_progress',
        assigned_agent: a.held.agentId,
        attempts: 1,
        stream: false,
        callback_url: null,
        webhook: null,
        events: [
          { seq: 1, status: 'pending', at },
          { seq: 2, status: 'in_progress', at, agent: a.held.agentId, attempt: 1 },
        ],
      });
      expect(byId.get(b)).toMatchObject({
        status: 'pending',
        stream: true,
        callback_url: url,
        webhook: null,
        events: [{ seq: 1, status: 'pending', at }],
      });
      await expect(world.tasks.withEvents([])).resolves.toEqual([]);
    });
  });

  describe('notices', () => {
    it('completeBatch of several tasks names them all, comma-separated, in one notice', async () => {
      const { type, agents } = await registerType(world, [5]);
      const submitted = await world.tasks.submitBatch(Array.from({ length: 5 }, () => newTask(type)));
      const ids = submitted.map((t) => t.id);
      expect(await claimAll(type)).toHaveLength(5);
      const listener = await listen();
      const from = listener.notices.length;

      const stored = await world.tasks.completeBatch(
        replicaId,
        ids.map((taskId) => ({ taskId, agentId: agents[0].id, result: {} })),
      );

      expect(stored.size).toBe(5);
      const heard = (await listener.settle(from)).filter((n) => n.channel === TASK_CHANNEL);
      expect(heard).toHaveLength(1);
      expect(heard[0].payload.split(',').sort()).toEqual([...ids].sort());
    });

    it('a statement changing hundreds of tasks names each once, in few notices each below the payload limit', async () => {
      const count = 250;
      const { type, agents } = await registerType(world, [count]);
      const submitted = await world.tasks.submitBatch(Array.from({ length: count }, () => newTask(type)));
      expect(await claimAll(type)).toHaveLength(count);
      const listener = await listen();
      const from = listener.notices.length;

      const stored = await world.tasks.completeBatch(
        replicaId,
        submitted.map((t) => ({ taskId: t.id, agentId: agents[0].id, result: {} })),
      );

      expect(stored.size).toBe(count);
      const heard = (await listener.settle(from)).filter((n) => n.channel === TASK_CHANNEL);
      // 200 ids per notice (task-events.sql.ts).
      expect(heard).toHaveLength(2);
      for (const notice of heard) expect(Buffer.byteLength(notice.payload)).toBeLessThan(8_000);
      const named = heard.flatMap((n) => parseTaskIds(n.payload));
      expect(named).toHaveLength(count);
      expect([...named].sort()).toEqual(submitted.map((t) => t.id).sort());
    });

    const lateWrites = {
      fail: (held: HeldTask) => world.tasks.fail(held, 'late failure'),
      retry: (held: HeldTask) => world.tasks.retry(held, 'late retry', 0),
      release: (held: HeldTask) => world.tasks.release(held),
      reroute: async (held: HeldTask) => (await world.tasks.reroute(held, 'late reroute')) !== undefined,
      completeBatch: async (held: HeldTask) =>
        (await world.tasks.completeBatch(held.replicaId, [{ ...held, result: { late: true } }])).has(held.taskId),
      cancel: async (held: HeldTask) => (await world.tasks.cancel(held.taskId)) !== undefined,
    } satisfies Record<string, (held: HeldTask) => Promise<boolean>>;

    it.each(Object.keys(lateWrites) as (keyof typeof lateWrites)[])(
      '%s of a task no longer held (completed) changes nothing and notifies nothing',
      async (write) => {
        const { id, held } = await runningTask({ task: { callback_url: url } });
        expect((await world.tasks.completeBatch(replicaId, [{ ...held, result: { first: true } }])).has(id)).toBe(true);
        const before = await eventsOf(id);
        const hooksBefore = await webhookRows(id);
        const listener = await listen();
        const from = listener.notices.length;

        await expect(lateWrites[write](held)).resolves.toBe(false);

        const heard = await listener.settle(from);
        expect(heard).toEqual([]);
        await expect(eventsOf(id)).resolves.toEqual(before);
        await expect(webhookRows(id)).resolves.toEqual(hooksBefore);
      },
    );

    it('a write by another replica, and a reap with no expired lease, notify nothing', async () => {
      const { id, held } = await runningTask();
      const before = await eventsOf(id);
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.fail({ ...held, replicaId: 'replica-z' }, 'not mine')).resolves.toBe(false);
      await expect(world.tasks.reap()).resolves.toEqual([]);

      await expect(listener.settle(from)).resolves.toEqual([]);
      await expect(eventsOf(id)).resolves.toEqual(before);
    });
  });

  describe('webhooks', () => {
    const endings = {
      completed: async (held: HeldTask) =>
        (await world.tasks.completeBatch(replicaId, [{ ...held, result: { ok: true } }])).has(held.taskId),
      failed: (held: HeldTask) => world.tasks.fail(held, 'broken'),
      'cancelled while running': async (held: HeldTask) =>
        (await world.tasks.cancel(held.taskId))?.was === 'in_progress',
      'failed by reroute': async (held: HeldTask) => (await world.tasks.reroute(held, 'not served')) === 'failed',
      'failed by the reaper': async (held: HeldTask) => {
        await world.sql(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [held.taskId]);
        return (await world.tasks.reap()).some((r) => r.id === held.taskId && r.status === 'failed');
      },
    } satisfies Record<string, (held: HeldTask) => Promise<boolean>>;

    it.each(Object.keys(endings) as (keyof typeof endings)[])(
      'a task with a callback_url %s queues exactly one delivery and wakes the senders',
      async (ending) => {
        const { id, held } = await runningTask({ task: { callback_url: url, max_attempts: 1 } });
        await expect(webhookRows(id)).resolves.toEqual([]);
        const listener = await listen();
        const from = listener.notices.length;

        await expect(endings[ending](held)).resolves.toBe(true);

        await expect(webhookRows(id)).resolves.toEqual([{ task_id: id, url, status: 'pending', attempts: 0 }]);
        const heard = await listener.settle(from);
        expect(heard.filter((n) => n.channel === WEBHOOK_CHANNEL)).toEqual([{ channel: WEBHOOK_CHANNEL, payload: '' }]);
        expect(listener.taskIdsIn(from)).toContain(id);
        const view = await world.tasks.get(id);
        expect(view?.webhook).toEqual({
          status: 'pending',
          attempts: 0,
          last_status: null,
          last_error: null,
          next_attempt_at: expect.any(String) as unknown,
          finished_at: null,
        });
        expect(Number.isNaN(Date.parse(view?.webhook?.next_attempt_at ?? ''))).toBe(false);
      },
    );

    it('a pending task with a callback_url that is cancelled queues exactly one delivery', async () => {
      const { type } = await registerType(world);
      const id = (await world.tasks.submit(newTask(type, { callback_url: url })))?.id ?? '';
      const listener = await listen();
      const from = listener.notices.length;

      await expect(world.tasks.cancel(id)).resolves.toEqual({ type, was: 'pending' });

      await expect(webhookRows(id)).resolves.toEqual([{ task_id: id, url, status: 'pending', attempts: 0 }]);
      const heard = await listener.settle(from);
      expect(heard.filter((n) => n.channel === WEBHOOK_CHANNEL)).toHaveLength(1);
      await expect(world.tasks.get(id)).resolves.toMatchObject({ status: 'cancelled', webhook: { status: 'pending' } });
    });

    it('claim, retry, reroute back to the queue and release queue no delivery and wake no sender', async () => {
      const { type, agents } = await registerType(world, [1, 1]);
      const id = (await world.tasks.submit(newTask(type, { callback_url: url, max_attempts: 5 })))?.id ?? '';
      const listener = await listen();
      const from = listener.notices.length;

      const [first] = await claimAll(type);
      await expect(world.tasks.retry(heldOf(first), 'busy', 0)).resolves.toBe(true);
      const [second] = await claimAll(type);
      await expect(world.tasks.reroute(heldOf(second), 'not served')).resolves.toBe('pending');
      const [third] = await claimAll(type);
      await expect(world.tasks.release(heldOf(third))).resolves.toBe(true);

      const heard = await listener.settle(from);
      expect(heard.filter((n) => n.channel === WEBHOOK_CHANNEL)).toEqual([]);
      expect(heard.filter((n) => n.channel === TASK_CHANNEL)).toHaveLength(6);
      await expect(webhookRows(id)).resolves.toEqual([]);
      await expect(world.tasks.get(id)).resolves.toMatchObject({ status: 'pending', webhook: null });
      expect(agents).toHaveLength(2);
    });

    it('a task without a callback_url queues no delivery when it ends', async () => {
      const { id, held } = await runningTask();
      const listener = await listen();
      const from = listener.notices.length;

      expect((await world.tasks.completeBatch(replicaId, [{ ...held, result: {} }])).has(id)).toBe(true);

      const heard = await listener.settle(from);
      expect(heard).toEqual([{ channel: TASK_CHANNEL, payload: id }]);
      await expect(webhookRows(id)).resolves.toEqual([]);
      await expect(world.tasks.get(id)).resolves.toMatchObject({ status: 'completed', webhook: null });
    });

    it('a completeBatch of tasks with and without a callback_url queues deliveries only for the first', async () => {
      const { type, agents } = await registerType(world, [4]);
      const submitted = await world.tasks.submitBatch([
        newTask(type, { callback_url: `${url}/0` }),
        newTask(type),
        newTask(type, { callback_url: `${url}/2` }),
        newTask(type),
      ]);
      expect(await claimAll(type)).toHaveLength(4);
      const listener = await listen();
      const from = listener.notices.length;

      const stored = await world.tasks.completeBatch(
        replicaId,
        submitted.map((t) => ({ taskId: t.id, agentId: agents[0].id, result: {} })),
      );

      expect(stored.size).toBe(4);
      const rows = await world.sql<{ task_id: string; url: string }>(
        `SELECT task_id, url FROM webhook_deliveries WHERE task_id = ANY($1) ORDER BY url`,
        [submitted.map((t) => t.id)],
      );
      expect(rows).toEqual([
        { task_id: submitted[0].id, url: `${url}/0` },
        { task_id: submitted[2].id, url: `${url}/2` },
      ]);
      const heard = await listener.settle(from);
      expect(heard.filter((n) => n.channel === WEBHOOK_CHANNEL)).toHaveLength(1);
    });
  });

  describe('stream and callback_url', () => {
    it('round-trip through submit, get and claim; unset, they read false and null', async () => {
      const { type } = await registerType(world, [2]);
      const withBoth = await world.tasks.submit(newTask(type, { stream: true, callback_url: url }));
      const plain = await world.tasks.submit(newTask(type));

      await expect(world.tasks.get(withBoth?.id ?? '')).resolves.toMatchObject({ stream: true, callback_url: url });
      await expect(world.tasks.get(plain?.id ?? '')).resolves.toMatchObject({ stream: false, callback_url: null });
      const claimed = await claimAll(type);
      expect(claimed.map((t) => [t.id, t.stream]).sort()).toEqual(
        [
          [withBoth?.id, true],
          [plain?.id, false],
        ].sort(),
      );
    });

    it('round-trip through submitBatch and submitEach', async () => {
      const { type } = await registerType(world);
      const batch = await world.tasks.submitBatch([
        newTask(type, { stream: true }),
        newTask(type, { callback_url: `${url}/b` }),
        newTask(type),
      ]);
      const each = await world.tasks.submitEach([
        newTask(type, { stream: true, callback_url: `${url}/e` }),
        newTask(`unserved-${randomUUID()}`, { stream: true, callback_url: url }),
        newTask(type, { stream: false }),
      ]);
      expect(each[1]).toBeUndefined();
      const ids = [...batch.map((t) => t.id), each[0]?.id ?? '', each[2]?.id ?? ''];

      const read = await Promise.all(ids.map((id) => world.tasks.get(id)));

      expect(read.map((t) => [t?.stream, t?.callback_url])).toEqual([
        [true, null],
        [false, `${url}/b`],
        [false, null],
        [true, `${url}/e`],
        [false, null],
      ]);
    });
  });
});

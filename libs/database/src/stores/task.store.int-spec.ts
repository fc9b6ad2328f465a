import { randomUUID } from 'node:crypto';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  taskRow,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import type { ClaimedTask } from './tasks/claim.types.js';

/** TaskStore on a real PostgreSQL: submitting, reading, cancelling and the queue's aggregates. */
describe('TaskStore (submit, read, cancel, aggregates)', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** Claims every due task of `type` its agents have room for, under `replicaId`. */
  const claimAll = async (w: StoreWorld, type: string): Promise<ClaimedTask[]> =>
    (await w.tasks.claim(replicaId, 60_000, 64, plannerFor([type]))).tasks;

  const countOfType = async (type: string) =>
    (await world.sql<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE type = $1`, [type]))[0]?.n;

  describe('submit', () => {
    it('stores a pending task and answers what it stored', async () => {
      const { type } = await registerType(world);
      const submitted = await world.tasks.submit(newTask(type, { priority: 4, context: { prompt: 'p', n: 1 } }));

      expect(submitted).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        type,
        operation: 'generate',
        model: null, // the agent's default
        priority: 4,
        status: 'pending',
        context: { prompt: 'p', n: 1 },
        created_at: expect.any(Date) as unknown,
      });
      await expect(world.tasks.get(submitted?.id ?? '')).resolves.toEqual({
        ...submitted,
        input: null,
        assigned_agent: null,
        result: null,
        error: null,
        attempts: 0,
        max_attempts: 3,
        timeout_ms: null,
        stream: false,
        callback_url: null,
        webhook: null,
        gateway: null,
        retain: 'full',
        started_at: null,
        completed_at: null,
      });
    });

    it('stores the timeout and max attempts given', async () => {
      const { type } = await registerType(world);
      const submitted = await world.tasks.submit(newTask(type, { max_attempts: 5, timeout_ms: 1_500 }));
      const stored = await world.tasks.get(submitted?.id ?? '');
      expect(stored).toMatchObject({ max_attempts: 5, timeout_ms: 1_500 });
    });

    it('stores nothing and answers undefined when no agent serves the type', async () => {
      const type = `unserved-${randomUUID()}`;
      await expect(world.tasks.submit(newTask(type))).resolves.toBeUndefined();
      await expect(countOfType(type)).resolves.toBe(0);
    });
  });

  describe('submitBatch', () => {
    it('answers in the order given, created_at growing by 1 µs per position', async () => {
      const [a, b] = [await registerType(world), await registerType(world)];
      const input = [a.type, b.type, a.type, a.type, b.type].map((type, n) =>
        newTask(type, { priority: (n % 5) + 1, context: { n } }),
      );

      const submitted = await world.tasks.submitBatch(input);

      expect(submitted.map((t) => [t.type, t.priority, t.context, t.status])).toEqual(
        input.map((t) => [t.type, t.priority, t.context, 'pending']),
      );
      const offsets = await world.sql<{ id: string; us: number }>(
        `SELECT id, round(extract(epoch FROM created_at - min(created_at) OVER ()) * 1e6)::int AS us
           FROM tasks WHERE id = ANY($1) ORDER BY created_at`,
        [submitted.map((t) => t.id)],
      );
      expect(offsets).toEqual(submitted.map((t, position) => ({ id: t.id, us: position })));
    });

    it('stores none of the tasks when one type is unserved', async () => {
      const { type } = await registerType(world);
      const unserved = `unserved-${randomUUID()}`;

      await expect(world.tasks.submitBatch([newTask(type), newTask(unserved), newTask(type)])).resolves.toEqual([]);
      await expect(countOfType(type)).resolves.toBe(0);
      await expect(countOfType(unserved)).resolves.toBe(0);
    });
  });

  describe('submitEach', () => {
    it('stores each task whose type is served, whatever the others, in the order given', async () => {
      const { type } = await registerType(world);
      const unserved = `unserved-${randomUUID()}`;
      const input = [newTask(type, { context: { n: 0 } }), newTask(unserved), newTask(type, { context: { n: 2 } })];

      const submitted = await world.tasks.submitEach(input);

      expect(submitted.map((t) => t?.context)).toEqual([{ n: 0 }, undefined, { n: 2 }]);
      await expect(countOfType(unserved)).resolves.toBe(0);
      const stored = await world.sql<{ id: string }>(`SELECT id FROM tasks WHERE type = $1 ORDER BY created_at, id`, [
        type,
      ]);
      expect(stored.map((r) => r.id)).toEqual([submitted[0]?.id, submitted[2]?.id]);
    });
  });

  describe('get', () => {
    it('answers undefined for an unknown id', async () => {
      await expect(world.tasks.get(randomUUID())).resolves.toBeUndefined();
    });
  });

  describe('list', () => {
    it('filters by status, type and agent, newest first, counting every task and the matching ones', async () => {
      const own = await openStoreWorld();
      try {
        const [a, b] = [await registerType(own), await registerType(own)];
        const submitted = await own.tasks.submitBatch([
          newTask(a.type),
          newTask(b.type),
          newTask(a.type),
          newTask(a.type),
          newTask(b.type),
        ]);
        const ids = submitted.map((t) => t.id);
        const [claimed] = await own.tasks.claim(replicaId, 60_000, 1, plannerFor([a.type], 1)).then((c) => c.tasks);
        expect(claimed.id).toBe(ids[0]);
        const page = (filter: object) => own.tasks.list({ limit: 10, offset: 0, ...filter });

        const all = await page({});
        expect(all.tasks.map((t) => t.id)).toEqual([...ids].reverse());
        expect([all.total, all.filtered]).toEqual([5, 5]);

        const pending = await page({ status: 'pending' });
        expect(pending.tasks.map((t) => t.id)).toEqual([ids[4], ids[3], ids[2], ids[1]]);
        expect([pending.total, pending.filtered]).toEqual([5, 4]);

        const ofB = await page({ type: b.type });
        expect(ofB.tasks.map((t) => t.id)).toEqual([ids[4], ids[1]]);
        expect(ofB.filtered).toBe(2);

        const onAgent = await page({ agent: a.agents[0].id });
        expect(onAgent.tasks.map((t) => [t.id, t.status, t.assigned_agent])).toEqual([
          [ids[0], 'in_progress', a.agents[0].id],
        ]);

        const pendingOfA = await page({ status: 'pending', type: a.type });
        expect(pendingOfA.tasks.map((t) => t.id)).toEqual([ids[3], ids[2]]);

        const window = await own.tasks.list({ limit: 2, offset: 1 });
        expect(window.tasks.map((t) => t.id)).toEqual([ids[3], ids[2]]);
        expect([window.total, window.filtered]).toEqual([5, 5]);

        await expect(page({ status: 'failed' })).resolves.toEqual({ tasks: [], total: 5, filtered: 0 });
      } finally {
        await own.close();
      }
    });
  });

  describe('cancel', () => {
    it('cancels a pending task', async () => {
      const { type } = await registerType(world);
      const task = await world.tasks.submit(newTask(type));

      const cancelled = await world.tasks.cancel(task?.id ?? '');

      expect(cancelled).toEqual({ type, was: 'pending' });
      await expect(world.tasks.get(task?.id ?? '')).resolves.toMatchObject({
        id: task?.id,
        status: 'cancelled',
        completed_at: expect.any(Date) as unknown,
      });
    });

    it('cancels a running task and ends its lease', async () => {
      const { type, agents } = await registerType(world);
      const task = await world.tasks.submit(newTask(type));
      expect((await claimAll(world, type)).map((t) => t.id)).toEqual([task?.id]);

      const cancelled = await world.tasks.cancel(task?.id ?? '');

      expect(cancelled?.was).toBe('in_progress');
      await expect(world.tasks.get(task?.id ?? '')).resolves.toMatchObject({
        status: 'cancelled',
        assigned_agent: agents[0]?.id,
        attempts: 1,
      });
      await expect(taskRow(world, task?.id ?? '')).resolves.toMatchObject({
        status: 'cancelled',
        lease_owner: null,
        lease_expires_at: null,
        completed_at: expect.any(Date) as unknown,
      });
    });

    it('leaves a finished task alone and answers undefined', async () => {
      const { type, agents } = await registerType(world);
      const [done, cancelled] = await world.tasks.submitBatch([newTask(type), newTask(type)]);
      await claimAll(world, type);
      const stored = await world.tasks.completeBatch(replicaId, [
        { taskId: done.id, agentId: agents[0].id, result: { answer: 42 } },
      ]);
      expect([...stored]).toEqual([done.id]);
      expect(await world.tasks.cancel(cancelled.id)).toBeDefined();
      const before = await world.sql(`SELECT * FROM tasks WHERE id = ANY($1) ORDER BY id`, [[done.id, cancelled.id]]);

      await expect(world.tasks.cancel(done.id)).resolves.toBeUndefined();
      await expect(world.tasks.cancel(cancelled.id)).resolves.toBeUndefined();
      await expect(world.tasks.cancel(randomUUID())).resolves.toBeUndefined();
      await expect(
        world.sql(`SELECT * FROM tasks WHERE id = ANY($1) ORDER BY id`, [[done.id, cancelled.id]]),
      ).resolves.toEqual(before);
    });
  });

  describe('aggregates (each on a database of its own)', () => {
    let own: StoreWorld;
    beforeEach(async () => {
      own = await openStoreWorld();
    });
    afterEach(() => own.close());

    it('countsByState counts every status, zero for none, and the total', async () => {
      await expect(own.tasks.countsByState()).resolves.toEqual({
        pending: 0,
        in_progress: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        total: 0,
      });
      const { type, agents } = await registerType(own, [3]);
      const [toComplete, toFail, , toCancel] = await own.tasks.submitBatch(
        [1, 2, 3, 4, 5, 6].map((n) => newTask(type, { context: { n } })),
      );
      expect(await claimAll(own, type)).toHaveLength(3);
      const agentId = agents[0].id;
      await own.tasks.completeBatch(replicaId, [{ taskId: toComplete.id, agentId, result: {} }]);
      await own.tasks.fail({ taskId: toFail.id, agentId, replicaId }, 'boom');
      await own.tasks.cancel(toCancel.id);

      await expect(own.tasks.countsByState()).resolves.toEqual({
        pending: 2,
        in_progress: 1,
        completed: 1,
        failed: 1,
        cancelled: 1,
        total: 6,
      });
    });

    it('pendingByRoute counts pending tasks per type and model, ordered by them', async () => {
      const oneSlot = await registerType(own, [1]);
      const idle = await registerType(own);
      await own.tasks.submitBatch([newTask(oneSlot.type), newTask(oneSlot.type)]);
      await own.tasks.submitBatch([newTask(idle.type), newTask(idle.type), newTask(idle.type)]);
      const onlyRunning = await registerType(own);
      await own.tasks.submit(newTask(onlyRunning.type));
      expect(await claimAll(own, oneSlot.type)).toHaveLength(1);
      expect(await claimAll(own, onlyRunning.type)).toHaveLength(1);

      await own.tasks.submit(newTask('', { model: 'llama3' }));

      await expect(own.tasks.pendingByRoute()).resolves.toEqual([
        { type: '', model: 'llama3', pending: 1 },
        ...[
          { type: oneSlot.type, model: '', pending: 1 },
          { type: idle.type, model: '', pending: 3 },
        ].sort((x, y) => (x.type < y.type ? -1 : 1)),
      ]);
    });

    it('sweepFinished deletes only finished tasks older than the retention, a batch at a time', async () => {
      const { type, agents } = await registerType(own, [10]);
      const tasks = await own.tasks.submitBatch([1, 2, 3, 4, 5, 6, 7, 8].map((n) => newTask(type, { context: { n } })));
      const ids = tasks.map((t) => t.id);
      const [completedOld, failedOld, cancelledOld, completedNew, pendingOld, runningOld, completedOld2, failedOld2] =
        ids;
      await claimAll(own, type);
      const agentId = agents[0].id;
      await own.tasks.completeBatch(
        replicaId,
        [completedOld, completedNew, completedOld2].map((taskId) => ({ taskId: taskId, agentId, result: {} })),
      );
      for (const taskId of [failedOld, failedOld2]) await own.tasks.fail({ taskId: taskId, agentId, replicaId }, 'x');
      await own.tasks.release({ taskId: pendingOld, agentId, replicaId });
      await own.tasks.cancel(cancelledOld);
      // Backdated by hand: everything but completedNew finished (or, for the unfinished two, claims to have) 8 days ago.
      await own.sql(`UPDATE tasks SET completed_at = now() - interval '8 days' WHERE id <> $1`, [completedNew]);

      await expect(own.tasks.sweepFinished(7, 2)).resolves.toBe(2);
      await expect(own.tasks.sweepFinished(7, 2)).resolves.toBe(2);
      await expect(own.tasks.sweepFinished(7, 2)).resolves.toBe(1);
      await expect(own.tasks.sweepFinished(7, 2)).resolves.toBe(0);
      await expect(own.tasks.sweepFinished(9, 100)).resolves.toBe(0);

      const left = await own.sql<{ id: string }>(`SELECT id FROM tasks ORDER BY id`);
      expect(left.map((r) => r.id)).toEqual([completedNew, pendingOld, runningOld].sort());
    });
  });
});

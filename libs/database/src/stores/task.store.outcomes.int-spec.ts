import { randomUUID } from 'node:crypto';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  taskRow,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import type { HeldTask, NewTask } from './tasks/task.types.js';

/** The writes of a running task's end, lease renewal and the reaper, on a real PostgreSQL. */
describe('TaskStore (outcomes and leases)', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** A type of its own with one agent of `slots`, and `count` of its tasks claimed by `replicaId`, in order. */
  async function running(count = 1, options: { slots?: number; task?: Partial<NewTask>; leaseMs?: number } = {}) {
    const { type, agents } = await registerType(world, [options.slots ?? Math.max(count, 1)]);
    const agentId = agents[0].id;
    const submitted = await world.tasks.submitBatch(Array.from({ length: count }, () => newTask(type, options.task)));
    const claim = await world.tasks.claim(replicaId, options.leaseMs ?? 60_000, 64, plannerFor([type]));
    expect(claim.tasks.map((t) => t.id)).toEqual(submitted.map((t) => t.id));
    const held: HeldTask[] = submitted.map((t) => ({ taskId: t.id, agentId, replicaId }));
    return { type, agentId, held };
  }

  const row = (id: string) => world.sql(`SELECT * FROM tasks WHERE id = $1`, [id]);

  describe('completeBatch', () => {
    it('stores the results of the tasks still held and marks the agent seen', async () => {
      const { agentId, held } = await running(3);
      const [a, b, c] = held.map((h) => h.taskId);
      expect(await world.agents.recordFailure(agentId, 'flaky', 10)).toMatchObject({ consecutiveFailures: 1 });
      const cBefore = await row(c);

      const stored = await world.tasks.completeBatch(replicaId, [
        { taskId: a, agentId, result: { answer: 'a' } },
        { taskId: b, agentId, result: { answer: 'b', n: [1, 2] } },
        { taskId: c, agentId: 'another-agent', result: { answer: 'late' } },
        { taskId: randomUUID(), agentId, result: {} },
      ]);

      expect([...stored].sort()).toEqual([a, b].sort());
      await expect(world.tasks.get(a)).resolves.toMatchObject({
        status: 'completed',
        result: { answer: 'a' },
        error: null,
        completed_at: expect.any(Date) as unknown,
      });
      await expect(world.tasks.get(b)).resolves.toMatchObject({ result: { answer: 'b', n: [1, 2] } });
      await expect(taskRow(world, a)).resolves.toMatchObject({ lease_owner: null, lease_expires_at: null });
      await expect(row(c)).resolves.toEqual(cBefore);
      await expect(world.agents.get(agentId)).resolves.toMatchObject({
        consecutive_failures: 0,
        last_seen: expect.any(Date) as unknown,
        current_tasks: 1,
      });
    });

    it('clears the error of an earlier attempt', async () => {
      const { type, agentId, held } = await running(1);
      const [task] = held;
      expect(await world.tasks.retry(task, 'timeout', 0)).toBe(true);
      expect((await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]))).tasks).toHaveLength(1);

      const stored = await world.tasks.completeBatch(replicaId, [{ taskId: task.taskId, agentId, result: {} }]);

      expect(stored.has(task.taskId)).toBe(true);
      await expect(world.tasks.get(task.taskId)).resolves.toMatchObject({ error: null, attempts: 2 });
    });
  });

  describe('fail, retry, release', () => {
    it('fail ends a held task as failed with its error', async () => {
      const { held } = await running(1);
      const task = held[0];

      await expect(world.tasks.fail(task, 'model not found')).resolves.toBe(true);

      await expect(taskRow(world, task.taskId)).resolves.toMatchObject({
        status: 'failed',
        error: 'model not found',
        attempts: 1,
        completed_at: expect.any(Date) as unknown,
        lease_owner: null,
        lease_expires_at: null,
      });
    });

    it('retry puts a held task back, due after the delay, with its error kept', async () => {
      const { type, held } = await running(1);
      const task = held[0];

      await expect(world.tasks.retry(task, 'server busy', 90_000)).resolves.toBe(true);

      const after = await taskRow(world, task.taskId);
      expect(after).toMatchObject({
        status: 'pending',
        error: 'server busy',
        attempts: 1,
        started_at: null,
        completed_at: null,
        lease_owner: null,
        lease_expires_at: null,
      });
      // Both are now() of the one UPDATE, so the difference is the delay exactly.
      expect(after.available_at.getTime() - after.updated_at.getTime()).toBe(90_000);
      expect(after.due_in_s).toBeGreaterThan(60);
      await expect(world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]))).resolves.toMatchObject({
        tasks: [],
      });
    });

    it('release puts a held task back at once, the attempt not counted', async () => {
      const { type, held } = await running(1);
      const task = held[0];

      await expect(world.tasks.release(task)).resolves.toBe(true);

      const after = await taskRow(world, task.taskId);
      expect(after).toMatchObject({
        status: 'pending',
        attempts: 0,
        started_at: null,
        lease_owner: null,
        lease_expires_at: null,
      });
      expect(after.available_at).toEqual(after.updated_at);
      const again = await world.tasks.claim('replica-b', 60_000, 64, plannerFor([type]));
      expect(again.tasks.map((t) => [t.id, t.attempts])).toEqual([[task.taskId, 1]]);
    });
  });

  /**
   * The lease guard (stores/tasks/lease.sql.ts): a write of a task's end lands only while task, agent and replica
   * all match and the task is still in_progress. Each case puts a held task out of reach, then tries each write.
   */
  describe('the lease guard', () => {
    type Mismatch = (held: HeldTask, type: string) => Promise<HeldTask>;
    const mismatches = {
      'another replica': (held) => Promise.resolve({ ...held, replicaId: 'replica-z' }),
      'another agent': async (held) => {
        const other = await registerType(world);
        return { ...held, agentId: other.agents[0].id };
      },
      'a cancelled task': async (held) => {
        expect((await world.tasks.cancel(held.taskId))?.was).toBe('in_progress');
        return held;
      },
      'a completed task': async (held) => {
        const stored = await world.tasks.completeBatch(held.replicaId, [{ ...held, result: { first: true } }]);
        expect(stored.has(held.taskId)).toBe(true);
        return held;
      },
      // Every store write that ends in_progress clears the lease too; set by hand, this shows the status is checked.
      'a task no longer in progress whose lease columns remain': async (held) => {
        await world.sql(`UPDATE tasks SET status = 'failed' WHERE id = $1`, [held.taskId]);
        return held;
      },
      'a task requeued and claimed again by another replica': async (held, type) => {
        expect(await world.tasks.release(held)).toBe(true);
        expect((await world.tasks.claim('replica-b', 60_000, 64, plannerFor([type]))).tasks).toHaveLength(1);
        return held;
      },
    } satisfies Record<string, Mismatch>;
    const writes = {
      fail: (held) => world.tasks.fail(held, 'late failure'),
      retry: (held) => world.tasks.retry(held, 'late retry', 0),
      release: (held) => world.tasks.release(held),
      completeBatch: async (held) =>
        (await world.tasks.completeBatch(held.replicaId, [{ ...held, result: { late: true } }])).has(held.taskId),
    } satisfies Record<string, (held: HeldTask) => Promise<boolean>>;
    const writeNames = Object.keys(writes) as (keyof typeof writes)[];
    const mismatchNames = Object.keys(mismatches) as (keyof typeof mismatches)[];
    const cases = writeNames.flatMap((write) => mismatchNames.map((mismatch) => [write, mismatch] as const));

    it.each(cases)('%s for %s changes nothing and answers false', async (write, mismatch) => {
      const { type, held } = await running(1);
      const stale = await mismatches[mismatch](held[0], type);
      const before = await row(held[0].taskId);
      expect(before).toHaveLength(1);

      await expect(writes[write](stale)).resolves.toBe(false);

      await expect(row(held[0].taskId)).resolves.toEqual(before);
    });

    it.each(writeNames)('%s of the same task while held answers true', async (write) => {
      const { held } = await running(1);
      await expect(writes[write](held[0])).resolves.toBe(true);
    });
  });

  describe('renewLeases', () => {
    it('extends only the leases this replica still holds, and answers those', async () => {
      const { type, agentId, held } = await running(4, { leaseMs: 1_000, slots: 5 });
      const [kept, cancelled, finished, endedByHand] = held.map((h) => h.taskId);
      await world.tasks.cancel(cancelled);
      await world.tasks.completeBatch(replicaId, [{ taskId: finished, agentId, result: {} }]);
      // No store write leaves a lease on a task that is not in progress; set by hand, this shows the status is checked.
      await world.sql(`UPDATE tasks SET status = 'failed' WHERE id = $1`, [endedByHand]);
      const [theirs] = await world.tasks.submitBatch([newTask(type)]);
      expect((await world.tasks.claim('replica-b', 1_000, 64, plannerFor([type]))).tasks).toHaveLength(1);
      const untouched = [theirs.id, endedByHand];
      const untouchedBefore = await world.sql(`SELECT * FROM tasks WHERE id = ANY($1) ORDER BY id`, [untouched]);

      const renewed = await world.tasks.renewLeases(
        replicaId,
        [kept, cancelled, finished, endedByHand, theirs.id, randomUUID()],
        600_000,
      );

      expect([...renewed]).toEqual([kept]);
      const after = await taskRow(world, kept);
      expect(after).toMatchObject({ status: 'in_progress', lease_owner: replicaId });
      expect(after.lease_left_s).toBeGreaterThan(500);
      await expect(world.sql(`SELECT * FROM tasks WHERE id = ANY($1) ORDER BY id`, [untouched])).resolves.toEqual(
        untouchedBefore,
      );
      await expect(world.tasks.renewLeases(replicaId, [], 600_000)).resolves.toEqual(new Set());
    });
  });

  describe('reap (each on a database of its own)', () => {
    let own: StoreWorld;
    beforeEach(async () => {
      own = await openStoreWorld();
    });
    afterEach(() => own.close());

    it('requeues expired tasks, fails those on their last attempt, and leaves live leases alone', async () => {
      const { type } = await registerType(own, [5]);
      const [requeued, lastAttempt, live] = await own.tasks.submitBatch([
        newTask(type, { max_attempts: 3 }),
        newTask(type, { max_attempts: 1 }),
        newTask(type, { max_attempts: 1 }),
      ]);
      expect((await own.tasks.claim('replica-dead', 60_000, 64, plannerFor([type]))).tasks).toHaveLength(3);
      await own.sql(
        `UPDATE tasks SET lease_expires_at = now() - CASE id WHEN $1::uuid THEN interval '2 s' ELSE interval '1 s' END
          WHERE id = ANY($2)`,
        [requeued.id, [requeued.id, lastAttempt.id]],
      );
      const liveBefore = await own.sql(`SELECT * FROM tasks WHERE id = $1`, [live.id]);

      await expect(own.tasks.reap(1)).resolves.toEqual([{ id: requeued.id, type, status: 'pending' }]);
      await expect(own.tasks.reap()).resolves.toEqual([{ id: lastAttempt.id, type, status: 'failed' }]);
      await expect(own.tasks.reap()).resolves.toEqual([]);

      const error = 'lease expired: replica replica-dead stopped renewing it';
      const back = await taskRow(own, requeued.id);
      expect(back).toMatchObject({
        status: 'pending',
        attempts: 1,
        error,
        started_at: null,
        completed_at: null,
        lease_owner: null,
        lease_expires_at: null,
      });
      expect(back.available_at).toEqual(back.updated_at);
      await expect(taskRow(own, lastAttempt.id)).resolves.toMatchObject({
        status: 'failed',
        attempts: 1,
        error,
        completed_at: expect.any(Date) as unknown,
        lease_owner: null,
      });
      await expect(own.sql(`SELECT * FROM tasks WHERE id = $1`, [live.id])).resolves.toEqual(liveBefore);
    });
  });
});

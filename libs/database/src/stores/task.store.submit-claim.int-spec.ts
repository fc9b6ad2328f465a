import { randomUUID } from 'node:crypto';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  taskRow,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';

/**
 * TaskStore.submitAndClaim (a gateway call while the dispatcher is idle): stored durably in the
 * claim's transaction, then a candidate for a slot like every due task (docs/architecture.md, "The gateway").
 */
describe('TaskStore.submitAndClaim', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';
  const leaseMs = 45_000;

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  it('stores the task under the id given and starts it on an agent with room', async () => {
    const { type, agents } = await registerType(world, [2]);
    const id = randomUUID();

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), [
      { task: newTask(type, { context: { asked: 'now' } }), id },
    ]);

    expect(claim.stored).toEqual([true]);
    expect(claim.freeSlots).toBe(2);
    expect(claim.tasks.map((t) => [t.id, t.agent.id, t.attempts, t.context])).toEqual([
      [id, agents[0]?.id, 1, { asked: 'now' }],
    ]);
    await expect(taskRow(world, id)).resolves.toMatchObject({
      status: 'in_progress',
      attempts: 1,
      lease_owner: replicaId,
    });
    const [events] = await world.sql<{ statuses: string[] }>(
      `SELECT array(SELECT e->>'status' FROM jsonb_array_elements(events) e) AS statuses FROM tasks WHERE id = $1`,
      [id],
    );
    expect(events?.statuses).toEqual(['pending', 'in_progress']);
  });

  it('claims it beside the tasks already due, each on its own row', async () => {
    const { type } = await registerType(world, [3]);
    const [due] = await world.tasks.submitBatch([newTask(type, { priority: 4 })]);
    const id = randomUUID();

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), [
      { task: newTask(type, { priority: 2, input: { prompt: 'mine' } }), id },
    ]);

    expect(claim.tasks.map((t) => [t.id, t.attempts, t.event_seq, t.input])).toEqual([
      [due?.id, 1, 2, null],
      [id, 1, 2, { prompt: 'mine' }],
    ]);
    for (const taskId of [id, due?.id ?? '']) {
      await expect(taskRow(world, taskId)).resolves.toMatchObject({ status: 'in_progress', lease_owner: replicaId });
    }
  });

  it('stores several at once, each running, pending or refused on its own, by priority then arrival', async () => {
    const { type } = await registerType(world, [2]);
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const submissions = [
      { task: newTask(type, { priority: 3 }), id: ids[0] ?? '' },
      { task: newTask(`${type}-unserved`), id: ids[1] ?? '' },
      { task: newTask(type, { priority: 3 }), id: ids[2] ?? '' },
      { task: newTask(type, { priority: 5 }), id: ids[3] ?? '' },
    ];

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), submissions);

    expect(claim.stored).toEqual([true, false, true, true]);
    expect(claim.tasks.map((t) => t.id).sort()).toEqual([ids[0], ids[3]].sort());
    const rows = await world.sql<{ id: string; status: string }>(`SELECT id, status FROM tasks WHERE id = ANY($1)`, [
      ids,
    ]);
    expect(new Map(rows.map((r) => [r.id, r.status]))).toEqual(
      new Map([
        [ids[0], 'in_progress'],
        [ids[2], 'pending'],
        [ids[3], 'in_progress'],
      ]),
    );
  });

  it('lets due tasks of higher priority take the slots first, and leaves it pending when none is left', async () => {
    const { type } = await registerType(world, [1]);
    const [waiting] = await world.tasks.submitBatch([newTask(type, { priority: 5 })]);
    const id = randomUUID();

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), [
      { task: newTask(type, { priority: 3 }), id },
    ]);

    expect(claim.stored).toEqual([true]);
    expect(claim.tasks.map((t) => t.id)).toEqual([waiting?.id]);
    await expect(taskRow(world, id)).resolves.toMatchObject({ status: 'pending', attempts: 0, lease_owner: null });
    const next = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    expect(next.tasks).toEqual([]);
  });

  it('stores the task pending when every agent is full, and claims nothing', async () => {
    const { type } = await registerType(world, [1]);
    await world.tasks.submitBatch([newTask(type)]);
    await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    const id = randomUUID();

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), [
      { task: newTask(type), id },
    ]);

    expect(claim).toMatchObject({ tasks: [], freeSlots: 0, stored: [true] });
    await expect(taskRow(world, id)).resolves.toMatchObject({ status: 'pending' });
  });

  it('stores nothing when no registered agent can run the task, and still claims what is due', async () => {
    const { type } = await registerType(world, [2]);
    const [due] = await world.tasks.submitBatch([newTask(type)]);
    const id = randomUUID();

    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), [
      { task: newTask(`${type}-unserved`), id },
    ]);

    expect(claim.stored).toEqual([false]);
    expect(claim.tasks.map((t) => t.id)).toEqual([due?.id]);
    await expect(world.sql(`SELECT id FROM tasks WHERE id = $1`, [id])).resolves.toEqual([]);
  });
});

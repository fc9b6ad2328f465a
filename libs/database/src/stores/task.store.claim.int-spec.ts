import { randomUUID } from 'node:crypto';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  taskRow,
  type PlannerView,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import type { ClaimedTask } from './tasks/claim.types.js';

/** TaskStore's claims on a real PostgreSQL (docs/architecture.md, "Claiming" and "The gateway"). */
let world: StoreWorld;
const replicaId = 'replica-a';
const leaseMs = 45_000;

beforeAll(async () => {
  world = await openStoreWorld();
});
afterAll(() => world.close());

describe('TaskStore.claim', () => {
  it('takes the highest priority first, then the oldest, up to the limit', async () => {
    const { type } = await registerType(world, [10]);
    const submitted = await world.tasks.submitBatch([1, 5, 3, 5, 1].map((priority) => newTask(type, { priority })));
    const ids = submitted.map((t) => t.id);

    const first = await world.tasks.claim(replicaId, leaseMs, 3, plannerFor([type], 3));
    expect(first.tasks.map((t) => t.id)).toEqual([ids[1], ids[3], ids[2]]);
    const rest = await world.tasks.claim(replicaId, leaseMs, 10, plannerFor([type]));
    expect(rest.tasks.map((t) => t.id)).toEqual([ids[0], ids[4]]);
  });

  it('takes no more of a type than the planner asks for', async () => {
    const { type } = await registerType(world, [2]);
    const submitted = await world.tasks.submitBatch([1, 2, 3].map((n) => newTask(type, { context: { n } })));

    const claim = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));

    expect(claim.tasks.map((t) => t.id)).toEqual([submitted[0].id, submitted[1].id]);
    expect(claim.freeSlots).toBe(2);
    await expect(taskRow(world, submitted[2].id)).resolves.toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('leaves a task that is not due yet', async () => {
    const { type } = await registerType(world, [5]);
    const [later, now] = await world.tasks.submitBatch([newTask(type), newTask(type)]);
    await world.sql(`UPDATE tasks SET available_at = now() + interval '1 hour' WHERE id = $1`, [later.id]);

    const claim = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));

    expect(claim.tasks.map((t) => t.id)).toEqual([now.id]);
    await expect(taskRow(world, later.id)).resolves.toMatchObject({
      status: 'pending',
      attempts: 0,
      lease_owner: null,
    });
  });

  it('puts the task in progress on an agent under this replica’s lease, counting the attempt', async () => {
    const { type, agents } = await registerType(world, [4]);
    const agent = agents[0];
    const task = await world.tasks.submit(newTask(type, { priority: 2, context: { q: 1 }, timeout_ms: 900 }));

    const claim = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));

    expect(claim.freeSlots).toBe(4);
    expect(claim.tasks).toEqual([
      {
        id: task?.id,
        type,
        operation: 'generate',
        model: '',
        runModel: agent.model, // no model named: the agent's default
        input: null,
        priority: 2,
        context: { q: 1 },
        attempts: 1,
        max_attempts: 3,
        timeout_ms: 900,
        stream: false,
        gateway: null,
        event_seq: 2, // after its pending event
        created_at: task?.created_at,
        available_at: expect.any(Date) as unknown,
        previous_agent: null,
        agent: {
          id: agent.id,
          endpoint: agent.endpoint,
          kind: 'ollama',
          model: agent.model,
          models: [agent.model],
          specialty: type,
          max_concurrent: 4,
          consecutive_failures: 0,
          api_key_encrypted: null,
          loaded_models: [],
          loaded_capacity: 0,
          recent_models: {},
          models_probed_at: null,
        },
      },
    ]);
    await expect(taskRow(world, task?.id ?? '')).resolves.toMatchObject({
      status: 'in_progress',
      assigned_agent: agent.id,
      attempts: 1,
      lease_owner: replicaId,
      started_at: expect.any(Date) as unknown,
    });
    const [lease] = await world.sql<{ ms: number }>(
      `SELECT round(extract(epoch FROM lease_expires_at - started_at) * 1000)::int AS ms FROM tasks WHERE id = $1`,
      [task?.id],
    );
    expect(lease.ms).toBe(leaseMs);
  });

  it('counts attempts on and names the previous agent of a retried task', async () => {
    const { type, agents } = await registerType(world, [1]);
    const task = await world.tasks.submit(newTask(type));
    await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    const agentId = agents[0].id;
    expect(await world.tasks.retry({ taskId: task?.id ?? '', agentId, replicaId }, 'timeout', 0)).toBe(true);

    const again = await world.tasks.claim('replica-b', leaseMs, 64, plannerFor([type]));

    expect(again.tasks.map((t) => [t.id, t.attempts, t.previous_agent, t.agent.id])).toEqual([
      [task?.id, 2, agentId, agentId],
    ]);
    await expect(taskRow(world, task?.id ?? '')).resolves.toMatchObject({ attempts: 2, lease_owner: 'replica-b' });
  });

  it('never offers a disabled or offline agent to the planner', async () => {
    const { type, agents } = await registerType(world, [2, 2, 2]);
    const ids = agents.map((a) => a.id);
    const [disabled, offline, reenabled] = ids;
    expect(await world.agents.update(disabled, { enabled: false })).toBe(true);
    expect(await world.agents.recordFailure(offline, 'down', 1)).toEqual({
      consecutiveFailures: 1,
      wentOffline: true,
    });
    expect(await world.agents.update(reenabled, { enabled: false })).toBe(true);
    const [task] = await world.tasks.submitBatch([newTask(type)]);
    const seen: PlannerView[] = [];
    const offered = () => seen.flatMap((view) => view.agents.map((a) => a.id).filter((id) => ids.includes(id)));

    const none = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type], 64, seen));

    expect(none).toEqual({ tasks: [], freeSlots: 0 });
    expect(offered()).toEqual([]);
    await expect(taskRow(world, task.id)).resolves.toMatchObject({ status: 'pending', attempts: 0 });

    expect(await world.agents.update(reenabled, { enabled: true })).toBe(true);
    const claim = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type], 64, seen));
    expect(offered()).toEqual([reenabled]);
    expect(claim.tasks.map((t) => [t.id, t.agent.id])).toEqual([[task.id, reenabled]]);
    expect(claim.freeSlots).toBe(2);
  });

  it('counts the tasks other replicas run on an agent against its max_concurrent', async () => {
    const { type, agents } = await registerType(world, [3]);
    const agentId = agents[0].id;
    await world.tasks.submitBatch([1, 2, 3, 4, 5].map((n) => newTask(type, { context: { n } })));
    const other = await world.openReplica();

    const mine = await world.tasks.claim(replicaId, leaseMs, 2, plannerFor([type], 2));
    expect(mine.tasks).toHaveLength(2);

    const seen: PlannerView[] = [];
    const theirs = await other.tasks.claim('replica-b', leaseMs, 64, plannerFor([type], 64, seen));
    expect(seen.at(-1)?.load.get(agentId)).toBe(2);
    expect(theirs.freeSlots).toBe(1);
    expect(theirs.tasks).toHaveLength(1);

    const full = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    expect(full).toEqual({ tasks: [], freeSlots: 0 });
    const owners = await world.sql<{ lease_owner: string; n: number }>(
      `SELECT lease_owner, count(*)::int AS n FROM tasks WHERE assigned_agent = $1 AND status = 'in_progress'
        GROUP BY lease_owner ORDER BY lease_owner`,
      [agentId],
    );
    expect(owners).toEqual([
      { lease_owner: replicaId, n: 2 },
      { lease_owner: 'replica-b', n: 1 },
    ]);
  });

  it('answers no tasks and no free slots, without asking the planner, when no agent is usable', async () => {
    const own = await openStoreWorld();
    try {
      const seen: PlannerView[] = [];
      await expect(own.tasks.claim(replicaId, leaseMs, 64, plannerFor([], 64, seen))).resolves.toEqual({
        tasks: [],
        freeSlots: 0,
      });
      expect(seen).toEqual([]);
    } finally {
      await own.close();
    }
  });
});

/**
 * TaskStore.submitAndClaim (a gateway call while the dispatcher is idle): stored durably in the
 * claim's transaction, then a candidate for a slot like every due task (docs/architecture.md, "The gateway").
 * The submissions it places are handed over before the commit that stores them, with whether it landed.
 */
describe('TaskStore.submitAndClaim', () => {
  /** The claim, the tasks it began before committing, and whether that commit landed (undefined: none began). */
  async function submitAndClaim(type: string, submissions: { task: ReturnType<typeof newTask>; id: string }[]) {
    const begun: ClaimedTask[] = [];
    let stored: Promise<boolean> | undefined;
    const claim = await world.tasks.submitAndClaim(replicaId, leaseMs, 64, plannerFor([type]), submissions, (p, s) => {
      begun.push(...p);
      stored = s;
    });
    return { claim, begun, stored: await stored };
  }

  it('stores the task under the id given and begins it on an agent with room', async () => {
    const { type, agents } = await registerType(world, [2]);
    const id = randomUUID();

    const { claim, begun, stored } = await submitAndClaim(type, [
      { task: newTask(type, { context: { asked: 'now' } }), id },
    ]);

    expect(claim.stored).toEqual([true]);
    expect(claim.freeSlots).toBe(2);
    expect(claim.tasks).toEqual([]);
    expect(begun.map((t) => [t.id, t.agent.id, t.attempts, t.event_seq, t.context])).toEqual([
      [id, agents[0]?.id, 1, 2, { asked: 'now' }],
    ]);
    expect(stored).toBe(true);
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

    const { claim, begun } = await submitAndClaim(type, [
      { task: newTask(type, { priority: 2, input: { prompt: 'mine' } }), id },
    ]);

    expect(claim.tasks.map((t) => [t.id, t.attempts, t.event_seq, t.input])).toEqual([[due?.id, 1, 2, null]]);
    expect(begun.map((t) => [t.id, t.attempts, t.event_seq, t.input])).toEqual([[id, 1, 2, { prompt: 'mine' }]]);
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

    const { claim, begun } = await submitAndClaim(type, submissions);

    expect(claim.stored).toEqual([true, false, true, true]);
    expect(claim.tasks).toEqual([]);
    expect(begun.map((t) => t.id).sort()).toEqual([ids[0], ids[3]].sort());
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

    const { claim, begun, stored } = await submitAndClaim(type, [{ task: newTask(type, { priority: 3 }), id }]);

    expect(claim.stored).toEqual([true]);
    expect(claim.tasks.map((t) => t.id)).toEqual([waiting?.id]);
    expect([begun, stored]).toEqual([[], undefined]);
    await expect(taskRow(world, id)).resolves.toMatchObject({ status: 'pending', attempts: 0, lease_owner: null });
    const next = await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    expect(next.tasks).toEqual([]);
  });

  it('stores the task pending when every agent is full, and claims nothing', async () => {
    const { type } = await registerType(world, [1]);
    await world.tasks.submitBatch([newTask(type)]);
    await world.tasks.claim(replicaId, leaseMs, 64, plannerFor([type]));
    const id = randomUUID();

    const { claim, begun } = await submitAndClaim(type, [{ task: newTask(type), id }]);

    expect(claim).toMatchObject({ tasks: [], freeSlots: 0, stored: [true] });
    expect(begun).toEqual([]);
    await expect(taskRow(world, id)).resolves.toMatchObject({ status: 'pending' });
  });

  it('stores nothing when no registered agent can run the task, and still claims what is due', async () => {
    const { type } = await registerType(world, [2]);
    const [due] = await world.tasks.submitBatch([newTask(type)]);
    const id = randomUUID();

    const { claim, begun } = await submitAndClaim(type, [{ task: newTask(`${type}-unserved`), id }]);

    expect(claim.stored).toEqual([false]);
    expect(claim.tasks.map((t) => t.id)).toEqual([due?.id]);
    expect(begun).toEqual([]);
    await expect(world.sql(`SELECT id FROM tasks WHERE id = $1`, [id])).resolves.toEqual([]);
  });

  it('says a task it began was not stored when the commit failed, and leaves no row and no lock', async () => {
    const { type } = await registerType(world, [2]);
    const id = randomUUID();
    let stored: Promise<boolean> | undefined;

    // PostgreSQL refuses a NUL character in jsonb: the statement that stores the begun task fails.
    const claiming = world.tasks.submitAndClaim(
      replicaId,
      leaseMs,
      64,
      plannerFor([type]),
      [{ task: newTask(type, { context: { text: 'nul \u0000 here' } }), id }],
      (_placed, s) => {
        stored = s;
      },
    );

    await expect(claiming).rejects.toMatchObject({ code: '22P05' });
    await expect(stored).resolves.toBe(false);
    await expect(world.sql(`SELECT id FROM tasks WHERE id = $1`, [id])).resolves.toEqual([]);
    const next = await submitAndClaim(type, [{ task: newTask(type), id: randomUUID() }]);
    expect([next.begun.length, next.stored]).toEqual([1, true]);
  });
});

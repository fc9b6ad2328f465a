import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  type StoreReplica,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import { pollUntil } from '../../../../test/support/poll.js';
import type { ClaimedTask } from './tasks/claim.types.js';

/**
 * Claims from two replicas at once, each on a pool of its own (docs/architecture.md, "Claiming"): no task is taken
 * twice, and no agent runs more than max_concurrent over both. Each test has a database of its own.
 */
describe('TaskStore.claim with concurrent claimers', () => {
  let world: StoreWorld;
  let other: StoreReplica;

  beforeEach(async () => {
    world = await openStoreWorld();
    other = await world.openReplica();
  });
  afterEach(() => world.close());

  it('takes every task exactly once and never overfills an agent, over many concurrent rounds', async () => {
    const slots = [2, 3, 5];
    const { type, agents } = await registerType(world, slots);
    const maxOf = new Map(agents.map((a) => [a.id, a.max_concurrent]));
    const submitted = await world.tasks.submitBatch(
      Array.from({ length: 200 }, (_, n) => newTask(type, { priority: (n % 5) + 1, context: { n } })),
    );
    const claimers = [
      { store: world.tasks, replicaId: 'replica-a' },
      { store: world.tasks, replicaId: 'replica-a' },
      { store: other.tasks, replicaId: 'replica-b' },
      { store: other.tasks, replicaId: 'replica-b' },
    ];
    const claimedBy = new Map<string, string>();
    let running: { task: ClaimedTask; replicaId: string }[] = [];
    let rounds = 0;

    while (claimedBy.size < submitted.length) {
      rounds += 1;
      if (rounds > 400) throw new Error(`only ${claimedBy.size} of ${submitted.length} claimed after 400 rounds`);
      // Half of what runs ends while the next claims are made, on both pools at once.
      const ending = running.filter((_, i) => i % 2 === 0);
      running = running.filter((_, i) => i % 2 === 1);
      const [claims] = await Promise.all([
        Promise.all(
          claimers.map(async ({ store, replicaId }) => ({
            replicaId,
            claim: await store.claim(replicaId, 60_000, 4, plannerFor([type], 4)),
          })),
        ),
        ...['replica-a', 'replica-b'].map((replicaId) => {
          const mine = ending.filter((r) => r.replicaId === replicaId);
          const store = replicaId === 'replica-a' ? world.tasks : other.tasks;
          return store
            .completeBatch(
              replicaId,
              mine.map((r) => ({ taskId: r.task.id, agentId: r.task.agent.id, result: { by: replicaId } })),
            )
            .then((stored) => expect(stored.size).toBe(mine.length));
        }),
      ]);

      for (const { replicaId, claim } of claims) {
        for (const task of claim.tasks) {
          expect(claimedBy.get(task.id)).toBeUndefined();
          claimedBy.set(task.id, replicaId);
          running.push({ task, replicaId });
        }
      }
      const load = await world.sql<{ agent: string; n: number; owners: string[] }>(
        `SELECT assigned_agent AS agent, count(*)::int AS n, array_agg(DISTINCT lease_owner) AS owners
           FROM tasks WHERE status = 'in_progress' GROUP BY assigned_agent`,
      );
      for (const { agent, n } of load) expect(n).toBeLessThanOrEqual(maxOf.get(agent) ?? 0);
      expect(load.reduce((sum, { n }) => sum + n, 0)).toBe(running.length);
    }

    await world.tasks.completeBatch(
      'replica-a',
      running
        .filter((r) => r.replicaId === 'replica-a')
        .map((r) => ({ taskId: r.task.id, agentId: r.task.agent.id, result: { by: 'replica-a' } })),
    );
    await other.tasks.completeBatch(
      'replica-b',
      running
        .filter((r) => r.replicaId === 'replica-b')
        .map((r) => ({ taskId: r.task.id, agentId: r.task.agent.id, result: { by: 'replica-b' } })),
    );
    expect([...claimedBy.keys()].sort()).toEqual(submitted.map((t) => t.id).sort());
    const finished = await world.sql<{ id: string; status: string; attempts: number; by: string }>(
      `SELECT id, status, attempts, result->>'by' AS by FROM tasks ORDER BY id`,
    );
    expect(finished).toEqual(
      submitted
        .map((t) => ({ id: t.id, status: 'completed', attempts: 1, by: claimedBy.get(t.id) }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('counts the load committed by the claim it waited for (its count is read after the agents are locked)', async () => {
    const { type, agents } = await registerType(world, [1]);
    const [agent] = agents;
    const [first, second] = await world.tasks.submitBatch([newTask(type), newTask(type)]);
    if (agent === undefined || first === undefined || second === undefined) throw new Error('set-up failed');
    // Another replica's claim, by hand: the agent locked, then its only slot filled, committed only later.
    const holder = await world.client();
    await holder.query('BEGIN');
    await holder.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [agent.id]);
    await holder.query(
      `UPDATE tasks SET status = 'in_progress', assigned_agent = $2, attempts = 1, started_at = now(),
              lease_owner = 'replica-a', lease_expires_at = now() + interval '1 minute'
        WHERE id = $1`,
      [first.id, agent.id],
    );
    const claiming = other.tasks.claim('replica-b', 60_000, 64, plannerFor([type]));
    await pollUntil(
      () => world.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`),
      (rows) => (rows[0]?.n ?? 0) > 0,
      { describe: 'the claim to wait for the locked agent' },
    );
    await holder.query('COMMIT');

    const claim = await claiming;
    expect(claim.tasks).toEqual([]);
    expect(claim.freeSlots).toBe(0);
    const rows = await world.sql<{ id: string; status: string }>(`SELECT id, status FROM tasks WHERE id = ANY($1)`, [
      [first.id, second.id],
    ]);
    expect(new Map(rows.map((r) => [r.id, r.status]))).toEqual(
      new Map([
        [first.id, 'in_progress'],
        [second.id, 'pending'],
      ]),
    );
  });

  it('skips rows another transaction has locked instead of waiting for them', async () => {
    const { type } = await registerType(world, [10]);
    const submitted = await world.tasks.submitBatch([5, 5, 3, 2, 1].map((priority) => newTask(type, { priority })));
    const ids = submitted.map((t) => t.id);
    const locked = ids.slice(0, 2);
    const holder = await world.client();
    await holder.query('BEGIN');
    let claimed: string[];
    try {
      const held = await holder.query(`SELECT id FROM tasks WHERE id = ANY($1) FOR UPDATE`, [locked]);
      expect(held.rowCount).toBe(2);

      // Only turns a claim that waits for the lock (a hang) into a readable failure; it is not a timed assertion.
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the claim waited for rows another transaction locked')), 20_000);
      });
      const claim = await Promise.race([other.tasks.claim('replica-b', 60_000, 64, plannerFor([type])), hang]).finally(
        () => clearTimeout(timer),
      );
      claimed = claim.tasks.map((t) => t.id);

      const stillLocked = await holder.query<{ status: string }>(`SELECT status FROM tasks WHERE id = ANY($1)`, [
        locked,
      ]);
      expect(stillLocked.rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    } finally {
      await holder.query('ROLLBACK');
    }
    expect(claimed).toEqual(ids.slice(2));

    const after = await world.tasks.claim('replica-a', 60_000, 64, plannerFor([type]));
    expect(after.tasks.map((t) => [t.id, t.attempts])).toEqual(locked.map((id) => [id, 1]));
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { pollUntil } from '../../../../test/support/poll.js';
import { newTask, openStoreWorld, registerType, type StoreWorld } from '../../../../test/support/store-fixture.js';
import { IdempotencyStore, type IdempotencyKey } from './idempotency.store.js';
import type { NewTask } from './tasks/task.types.js';

interface KeyRow {
  owner: string;
  key: string;
  request_hash: Buffer;
  task_ids: string[];
  /** Seconds from now (the database's clock) to expires_at. */
  expires_in_s: number;
}

/**
 * IdempotencyStore on a real PostgreSQL (docs/architecture.md, "Idempotent submission"): the key and the tasks are
 * written in one transaction, so a key stores its tasks once, even when requests race for it.
 */
describe('IdempotencyStore', () => {
  let world: StoreWorld;
  let store: IdempotencyStore;

  beforeAll(async () => {
    world = await openStoreWorld();
    store = new IdempotencyStore(world.runner);
  });
  afterAll(() => world.close());

  const hashOf = (text: string): Buffer => createHash('sha256').update(text).digest();

  /** A key no other test uses, for the request `body`. */
  const keyFor = (body: string, overrides: Partial<IdempotencyKey> = {}): IdempotencyKey => ({
    owner: `owner-${randomUUID()}`,
    key: `key-${randomUUID()}`,
    requestHash: hashOf(body),
    ttlHours: 24,
    ...overrides,
  });

  const keyRows = (owner: string, key: string) =>
    world.sql<KeyRow>(
      `SELECT owner, key, request_hash, task_ids::text[] AS task_ids,
              extract(epoch FROM expires_at - now())::float8 AS expires_in_s
         FROM idempotency_keys WHERE owner = $1 AND key = $2`,
      [owner, key],
    );

  /** The key's row as stored, every column. */
  const storedKey = (owner: string, key: string) =>
    world.sql(`SELECT * FROM idempotency_keys WHERE owner = $1 AND key = $2`, [owner, key]);

  const tasksOfType = (type: string) =>
    world.sql<{ id: string; context: Record<string, unknown> }>(
      `SELECT id, context FROM tasks WHERE type = $1 ORDER BY created_at, id`,
      [type],
    );

  /** The ids of a 'created' answer (fails the test on any other outcome). */
  function createdIds(result: Awaited<ReturnType<IdempotencyStore['submitOnce']>>): string[] {
    expect(result.outcome).toBe('created');
    return result.outcome === 'created' ? result.tasks.map((t) => t.id) : [];
  }

  const tasksFor = (type: string, count: number): NewTask[] =>
    Array.from({ length: count }, (_, n) => newTask(type, { context: { n } }));

  it('stores the tasks and the key holding their ids', async () => {
    const { type } = await registerType(world);
    const key = keyFor('body-1', { ttlHours: 2 });

    const result = await store.submitOnce(key, tasksFor(type, 3));

    const ids = createdIds(result);
    expect(result).toMatchObject({
      outcome: 'created',
      tasks: [0, 1, 2].map((n) => ({ type, status: 'pending', context: { n } })),
    });
    await expect(tasksOfType(type)).resolves.toEqual(ids.map((id, n) => ({ id, context: { n } })));
    const [row] = await keyRows(key.owner, key.key);
    expect(row).toMatchObject({ owner: key.owner, key: key.key, task_ids: ids });
    expect(row.request_hash.equals(key.requestHash)).toBe(true);
    expect(row.expires_in_s).toBeGreaterThan(3_600);
    expect(row.expires_in_s).toBeLessThanOrEqual(7_200);
  });

  it('replays the same key and request with the same ids, storing nothing more', async () => {
    const { type } = await registerType(world);
    const key = keyFor('body-2');
    const ids = createdIds(await store.submitOnce(key, tasksFor(type, 2)));
    const keyBefore = await storedKey(key.owner, key.key);

    const again = await store.submitOnce({ ...key }, tasksFor(type, 2));

    expect(again).toEqual({ outcome: 'replayed', taskIds: ids });
    await expect(tasksOfType(type)).resolves.toHaveLength(2);
    await expect(storedKey(key.owner, key.key)).resolves.toEqual(keyBefore);
  });

  it('refuses the same key for another request, storing nothing', async () => {
    const { type } = await registerType(world);
    const key = keyFor('body-3');
    const ids = createdIds(await store.submitOnce(key, tasksFor(type, 1)));
    const keyBefore = await storedKey(key.owner, key.key);

    const other = await store.submitOnce({ ...key, requestHash: hashOf('another body') }, tasksFor(type, 4));

    expect(other).toEqual({ outcome: 'conflict' });
    await expect(tasksOfType(type)).resolves.toEqual([{ id: ids[0], context: { n: 0 } }]);
    await expect(storedKey(key.owner, key.key)).resolves.toEqual(keyBefore);
  });

  it('keeps the keys of different owners apart', async () => {
    const { type } = await registerType(world);
    const key = keyFor('body-4');
    const first = createdIds(await store.submitOnce(key, tasksFor(type, 1)));

    const second = createdIds(await store.submitOnce({ ...key, owner: `owner-${randomUUID()}` }, tasksFor(type, 1)));

    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    await expect(tasksOfType(type)).resolves.toHaveLength(2);
    await expect(keyRows(key.owner, key.key)).resolves.toMatchObject([{ task_ids: first }]);
  });

  it('answers unserved when no agent can run one of the tasks, storing nothing and leaving the key free', async () => {
    const { type } = await registerType(world);
    const unserved = `unserved-${randomUUID()}`;
    const key = keyFor('body-5');

    const result = await store.submitOnce(key, [newTask(type), newTask(unserved)]);

    expect(result).toEqual({ outcome: 'unserved' });
    await expect(tasksOfType(type)).resolves.toEqual([]);
    await expect(tasksOfType(unserved)).resolves.toEqual([]);
    await expect(keyRows(key.owner, key.key)).resolves.toEqual([]);

    const later = createdIds(await store.submitOnce(key, [newTask(type)]));
    expect(later).toHaveLength(1);
    await expect(keyRows(key.owner, key.key)).resolves.toMatchObject([{ task_ids: later }]);
  });

  it('gives an expired key to the next request, whatever it asks', async () => {
    const { type } = await registerType(world);
    const key = keyFor('body-6');
    const old = createdIds(await store.submitOnce(key, tasksFor(type, 1)));
    await world.sql(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE owner = $1 AND key = $2`,
      [key.owner, key.key],
    );

    const fresh = createdIds(
      await store.submitOnce({ ...key, requestHash: hashOf('another body') }, tasksFor(type, 2)),
    );

    expect(fresh).toHaveLength(2);
    expect(fresh).not.toContain(old[0]);
    await expect(tasksOfType(type)).resolves.toHaveLength(3);
    const [row] = await keyRows(key.owner, key.key);
    expect(row.task_ids).toEqual(fresh);
    expect(row.request_hash.equals(hashOf('another body'))).toBe(true);
    expect(row.expires_in_s).toBeGreaterThan(23 * 3_600);
    // The key is live again: the new request replays, the first one conflicts.
    await expect(store.submitOnce({ ...key, requestHash: hashOf('another body') }, [])).resolves.toEqual({
      outcome: 'replayed',
      taskIds: fresh,
    });
    await expect(store.submitOnce(key, tasksFor(type, 1))).resolves.toEqual({ outcome: 'conflict' });
  });

  describe('sweepExpired (on a database of its own)', () => {
    let own: StoreWorld;
    beforeEach(async () => {
      own = await openStoreWorld();
    });
    afterEach(() => own.close());

    it('deletes the expired keys only, at most a batch at a time', async () => {
      const ownStore = new IdempotencyStore(own.runner);
      const { type } = await registerType(own);
      const keys = Array.from({ length: 5 }, (_, n) => keyFor(`sweep-${n}`));
      for (const key of keys) expect((await ownStore.submitOnce(key, [newTask(type)])).outcome).toBe('created');
      const expired = keys.slice(0, 3);
      await own.sql(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE owner = ANY($1)`, [
        expired.map((k) => k.owner),
      ]);

      await expect(ownStore.sweepExpired(2)).resolves.toBe(2);
      await expect(ownStore.sweepExpired(2)).resolves.toBe(1);
      await expect(ownStore.sweepExpired(2)).resolves.toBe(0);

      const left = await own.sql<{ owner: string }>(`SELECT owner FROM idempotency_keys ORDER BY owner`);
      expect(left.map((r) => r.owner)).toEqual(
        keys
          .slice(3)
          .map((k) => k.owner)
          .sort(),
      );
      // The tasks stay: a key only remembers them.
      await expect(own.sql(`SELECT id FROM tasks WHERE type = $1`, [type])).resolves.toHaveLength(5);
    });
  });

  describe('requests racing for one key', () => {
    /** Waits until a backend of this database waits for a lock (the racing request, blocked on the key's row). */
    const someoneWaitsForALock = () =>
      pollUntil(
        () =>
          world.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%idempotency_keys%'`,
          ),
        (rows) => (rows[0]?.n ?? 0) > 0,
        { describe: 'the second request to wait for the key' },
      );

    it('store the tasks once: one request creates, the other replays the same ids (20 rounds, two pools)', async () => {
      const other = await world.openReplica();
      const stores = [new IdempotencyStore(world.runner), new IdempotencyStore(other.runner)];
      const { type } = await registerType(world);

      for (let round = 0; round < 20; round += 1) {
        const key = keyFor(`race-${round}`);
        const tasks = () => [newTask(type, { context: { round, n: 0 } }), newTask(type, { context: { round, n: 1 } })];

        const results = await Promise.all(stores.map((s) => s.submitOnce({ ...key }, tasks())));

        const created = results.flatMap((r) => (r.outcome === 'created' ? [r] : []));
        const replayed = results.flatMap((r) => (r.outcome === 'replayed' ? [r] : []));
        expect([created.length, replayed.length]).toEqual([1, 1]);
        const ids = created[0].tasks.map((t) => t.id);
        expect(replayed[0].taskIds).toEqual(ids);
        const stored = await world.sql<{ id: string }>(
          `SELECT id FROM tasks WHERE type = $1 AND context->>'round' = $2 ORDER BY created_at`,
          [type, String(round)],
        );
        expect(stored.map((r) => r.id)).toEqual(ids);
        await expect(keyRows(key.owner, key.key)).resolves.toMatchObject([{ task_ids: ids }]);
      }
      await expect(tasksOfType(type)).resolves.toHaveLength(40);
    });

    it('a request that finds the key held waits for it, and replays it once it commits', async () => {
      const { type } = await registerType(world);
      const key = keyFor('held-commit');
      const heldIds = [randomUUID()];
      const holder = await world.client();
      await holder.query('BEGIN');
      let waiting: Promise<unknown> | undefined;
      try {
        await holder.query(
          `INSERT INTO idempotency_keys (owner, key, request_hash, task_ids, expires_at)
           VALUES ($1, $2, $3, $4::uuid[], now() + interval '1 hour')`,
          [key.owner, key.key, key.requestHash, heldIds],
        );
        waiting = store.submitOnce(key, [newTask(type)]);
        await someoneWaitsForALock();
      } finally {
        await holder.query('COMMIT');
      }

      await expect(waiting).resolves.toEqual({ outcome: 'replayed', taskIds: heldIds });
      await expect(tasksOfType(type)).resolves.toEqual([]);
    });

    it('a request that finds the key held takes it once the holder rolls back', async () => {
      const { type } = await registerType(world);
      const key = keyFor('held-rollback');
      const holder = await world.client();
      await holder.query('BEGIN');
      let waiting: ReturnType<IdempotencyStore['submitOnce']> | undefined;
      try {
        await holder.query(
          `INSERT INTO idempotency_keys (owner, key, request_hash, task_ids, expires_at)
           VALUES ($1, $2, $3, $4::uuid[], now() + interval '1 hour')`,
          [key.owner, key.key, hashOf('another body'), [randomUUID()]],
        );
        waiting = store.submitOnce(key, [newTask(type)]);
        await someoneWaitsForALock();
      } finally {
        await holder.query('ROLLBACK');
      }

      const ids = createdIds(await waiting);
      await expect(tasksOfType(type)).resolves.toEqual([{ id: ids[0], context: { prompt: 'hello' } }]);
      await expect(keyRows(key.owner, key.key)).resolves.toMatchObject([{ task_ids: ids }]);
    });
  });
});

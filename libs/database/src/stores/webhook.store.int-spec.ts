import { waitUntil } from '../../../../test/support/poll.js';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import { receiverOf, WebhookStore, type DueWebhook } from './webhook.store.js';

/** A webhook_deliveries row, every column the store writes. */
interface DeliveryRow {
  task_id: string;
  id: string;
  url: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  lease_owner: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/**
 * WebhookStore on a real PostgreSQL (docs/architecture.md, "Webhooks"): deliveries queued by the end of their task,
 * taken under a lease by pushing their next attempt past it, and outcomes that land only for the replica holding
 * it. Each test has a database of its own, so that `take` and `backlog` see its deliveries only.
 */
describe('WebhookStore', () => {
  let world: StoreWorld;
  let webhooks: WebhookStore;
  const url = 'https://hooks.example.test/hive';

  beforeEach(async () => {
    world = await openStoreWorld();
    webhooks = new WebhookStore(world.runner);
  });
  afterEach(() => world.close());

  /**
   * `count` deliveries queued the way Hive queues them: tasks with a callback_url claimed and completed (or, with
   * `cancel`, cancelled while pending). Answers the task ids in the order submitted.
   */
  async function queueDeliveries(count: number, options: { cancel?: boolean } = {}) {
    const replica = world;
    const { type, agents } = await registerType(replica, [count]);
    const submitted = await replica.tasks.submitBatch(
      Array.from({ length: count }, (_, n) => newTask(type, { callback_url: `${url}/${n}` })),
    );
    const ids = submitted.map((t) => t.id);
    if (options.cancel === true) {
      for (const id of ids) expect(await replica.tasks.cancel(id)).toEqual({ type, was: 'pending' });
    } else {
      const claim = await replica.tasks.claim('replica-t', 60_000, count, plannerFor([type], count));
      expect(claim.tasks).toHaveLength(count);
      const stored = await replica.tasks.completeBatch(
        'replica-t',
        ids.map((taskId) => ({ taskId, agentId: agents[0].id, result: { ok: true } })),
      );
      expect(stored.size).toBe(count);
    }
    const queued = await world.sql<{ task_id: string }>(
      `SELECT task_id FROM webhook_deliveries WHERE task_id = ANY($1)`,
      [ids],
    );
    expect(queued).toHaveLength(count);
    return ids;
  }

  async function deliveryOf(taskId: string): Promise<DeliveryRow> {
    const rows = await world.sql<DeliveryRow>(
      `SELECT task_id, id, url, status, attempts, next_attempt_at, last_status, last_error, lease_owner, created_at,
              finished_at
         FROM webhook_deliveries WHERE task_id = $1`,
      [taskId],
    );
    if (rows[0] === undefined) throw new Error(`no delivery for task ${taskId}`);
    return rows[0];
  }

  /** The database's clock, as text (exact to the microsecond). */
  async function dbNow(): Promise<string> {
    const [row] = await world.sql<{ now: string }>(`SELECT now()::text AS now`);
    return row.now;
  }

  /**
   * Seconds from `before` and from `after` (database times read before and after a statement) to the delivery's
   * next_attempt_at: a time set to the statement's now() + d is ≥ before + d and ≤ after + d.
   */
  async function nextAttemptFrom(taskId: string, before: string, after: string) {
    const [row] = await world.sql<{ from_before: number; from_after: number }>(
      `SELECT extract(epoch FROM next_attempt_at - $2::timestamptz)::float8 AS from_before,
              extract(epoch FROM next_attempt_at - $3::timestamptz)::float8 AS from_after
         FROM webhook_deliveries WHERE task_id = $1`,
      [taskId, before, after],
    );
    return row;
  }

  const sortedIds = (taken: readonly DueWebhook[]) => taken.map((d) => d.task_id).sort();

  describe('take', () => {
    it('leases the due deliveries: attempts counted, the next attempt pushed past the lease', async () => {
      const completed = await queueDeliveries(2);
      const cancelled = await queueDeliveries(1, { cancel: true });
      const ids = [...completed, ...cancelled];
      const queued = await Promise.all(ids.map(deliveryOf));
      expect(queued.map((d) => [d.status, d.attempts, d.lease_owner])).toEqual(ids.map(() => ['pending', 0, null]));

      const before = await dbNow();
      const taken = await webhooks.take('replica-a', 60_000, 10);
      const after = await dbNow();

      expect(sortedIds(taken)).toEqual([...ids].sort());
      for (const delivery of taken) {
        const row = queued.find((q) => q.task_id === delivery.task_id);
        expect(delivery).toEqual({
          task_id: row?.task_id,
          id: row?.id,
          url: row?.url,
          attempts: 1,
          created_at: row?.created_at,
        });
        await expect(deliveryOf(delivery.task_id)).resolves.toMatchObject({
          status: 'pending',
          attempts: 1,
          lease_owner: 'replica-a',
          finished_at: null,
        });
        const next = await nextAttemptFrom(delivery.task_id, before, after);
        expect(next.from_before).toBeGreaterThanOrEqual(60);
        expect(next.from_after).toBeLessThanOrEqual(60);
      }
      await expect(world.tasks.get(ids[0])).resolves.toMatchObject({
        webhook: { status: 'pending', attempts: 1, next_attempt_at: expect.any(String) as unknown },
      });

      await expect(webhooks.take('replica-b', 60_000, 10)).resolves.toEqual([]);
      await expect(webhooks.take('replica-a', 60_000, 10)).resolves.toEqual([]);
    });

    it('takes at most `limit`, the longest due first', async () => {
      const ids = await queueDeliveries(3);
      await world.sql(
        `UPDATE webhook_deliveries SET next_attempt_at = now() - CASE task_id WHEN $1::uuid THEN interval '3 s'
                                                                            WHEN $2::uuid THEN interval '2 s'
                                                                            ELSE interval '1 s' END`,
        [ids[2], ids[0]],
      );

      await expect(webhooks.take('replica-a', 60_000, 2).then(sortedIds)).resolves.toEqual([ids[2], ids[0]].sort());
      await expect(webhooks.take('replica-a', 60_000, 2).then(sortedIds)).resolves.toEqual([ids[1]]);
      await expect(webhooks.take('replica-a', 60_000, 2)).resolves.toEqual([]);
    });

    it('takes at most `perReceiver` for one receiver, counting those in flight, and fills the rest with others', async () => {
      const ids = await queueDeliveries(6);
      const others = ids.slice(3);
      await world.sql(
        `UPDATE webhook_deliveries SET url = 'https://Other.Example.test:8443/in?x=1' WHERE task_id = ANY($1)`,
        [others],
      );
      const other = receiverOf('https://Other.Example.test:8443/in?x=1');
      expect(other).toBe('other.example.test:8443');
      expect(receiverOf(url)).toBe('hooks.example.test');

      const first = await webhooks.take('replica-a', 60_000, 10, 2);
      const byReceiver = (taken: DueWebhook[]) =>
        taken.reduce((counts, d) => counts.set(receiverOf(d.url), (counts.get(receiverOf(d.url)) ?? 0) + 1), new Map());
      expect(byReceiver(first)).toEqual(
        new Map([
          ['hooks.example.test', 2],
          [other, 2],
        ]),
      );

      // hooks.example.test has 2 in flight here already (its cap), the other receiver 1: one more of the other only.
      const inFlight = new Map([
        ['hooks.example.test', 2],
        [other, 1],
      ]);
      const second = await webhooks.take('replica-a', 60_000, 10, 2, inFlight);
      expect(byReceiver(second)).toEqual(new Map([[other, 1]]));
      // Below the cap again, the first receiver's last one is taken.
      const third = await webhooks.take('replica-a', 60_000, 10, 2, new Map([[other, 2]]));
      expect(byReceiver(third)).toEqual(new Map([['hooks.example.test', 1]]));
    });

    it('takes nothing not yet due, delivered or failed', async () => {
      const [later, delivered, failed] = await queueDeliveries(3);
      await world.sql(`UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE task_id = $1`, [
        later,
      ]);
      await world.sql(`UPDATE webhook_deliveries SET status = 'delivered' WHERE task_id = $1`, [delivered]);
      await world.sql(`UPDATE webhook_deliveries SET status = 'failed' WHERE task_id = $1`, [failed]);

      await expect(webhooks.take('replica-a', 60_000, 10)).resolves.toEqual([]);
    });

    it('two replicas taking at once never get the same delivery, and together get each one', async () => {
      const other = await world.openReplica();
      const takers = [webhooks, webhooks, new WebhookStore(other.runner), new WebhookStore(other.runner)];
      const ids = await queueDeliveries(60);
      const takenBy = new Map<string, number>();

      for (let round = 0; ; round += 1) {
        if (round > 60) throw new Error(`only ${takenBy.size} of ${ids.length} taken after 60 rounds`);
        const taken = await Promise.all(takers.map((store, n) => store.take(`replica-${n % 2}`, 60_000, 4)));
        if (taken.every((t) => t.length === 0)) break;
        taken.forEach((deliveries, taker) => {
          for (const delivery of deliveries) {
            expect(takenBy.get(delivery.task_id)).toBeUndefined();
            takenBy.set(delivery.task_id, taker);
            expect(delivery.attempts).toBe(1);
          }
        });
      }

      expect([...takenBy.keys()].sort()).toEqual([...ids].sort());
      const attempts = await world.sql<{ attempts: number; n: number }>(
        `SELECT attempts, count(*)::int AS n FROM webhook_deliveries GROUP BY attempts`,
      );
      expect(attempts).toEqual([{ attempts: 1, n: 60 }]);
    });
  });

  describe('delivered', () => {
    it('marks the delivery done for the replica holding it only', async () => {
      const [id] = await queueDeliveries(1);
      await expect(webhooks.delivered(id, 'replica-a', 200)).resolves.toBeUndefined();
      const [taken] = await webhooks.take('replica-a', 60_000, 10);
      const held = await deliveryOf(id);

      await expect(webhooks.delivered(id, 'replica-b', 200)).resolves.toBeUndefined();
      await expect(deliveryOf(id)).resolves.toEqual(held);

      await expect(webhooks.delivered(id, 'replica-a', 204)).resolves.toEqual(taken.created_at);
      const done = await deliveryOf(id);
      expect(done).toEqual({
        ...held,
        status: 'delivered',
        last_status: 204,
        last_error: null,
        lease_owner: null,
        finished_at: expect.any(Date) as unknown,
      });
      await expect(world.tasks.get(id)).resolves.toMatchObject({
        webhook: {
          status: 'delivered',
          attempts: 1,
          last_status: 204,
          last_error: null,
          next_attempt_at: null,
          finished_at: expect.any(String) as unknown,
        },
      });
      await expect(webhooks.delivered(id, 'replica-a', 200)).resolves.toBeUndefined();
      await expect(webhooks.take('replica-a', 60_000, 10)).resolves.toEqual([]);
      await expect(deliveryOf(id)).resolves.toEqual(done);
    });

    it('clears the error of an earlier attempt', async () => {
      const [id] = await queueDeliveries(1);
      await webhooks.take('replica-a', 60_000, 10);
      await expect(
        webhooks.attemptFailed(id, 'replica-a', { httpStatus: 500, error: 'HTTP 500' }, 0, 24),
      ).resolves.toBe('pending');
      expect(await webhooks.take('replica-a', 60_000, 10)).toMatchObject([{ task_id: id, attempts: 2 }]);

      await expect(webhooks.delivered(id, 'replica-a', 200)).resolves.toEqual(expect.any(Date));

      await expect(deliveryOf(id)).resolves.toMatchObject({
        status: 'delivered',
        attempts: 2,
        last_status: 200,
        last_error: null,
      });
    });
  });

  describe('attemptFailed', () => {
    it('makes the delivery due again after the delay, with the failure recorded, for the holder only', async () => {
      const [id] = await queueDeliveries(1);
      await webhooks.take('replica-a', 60_000, 10);
      const held = await deliveryOf(id);

      await expect(
        webhooks.attemptFailed(id, 'replica-b', { httpStatus: 503, error: 'not mine' }, 30_000, 24),
      ).resolves.toBeUndefined();
      await expect(deliveryOf(id)).resolves.toEqual(held);

      const before = await dbNow();
      await expect(
        webhooks.attemptFailed(id, 'replica-a', { httpStatus: 503, error: 'HTTP 503 Service Unavailable' }, 30_000, 24),
      ).resolves.toBe('pending');
      const after = await dbNow();

      await expect(deliveryOf(id)).resolves.toEqual({
        ...held,
        next_attempt_at: expect.any(Date) as unknown,
        status: 'pending',
        last_status: 503,
        last_error: 'HTTP 503 Service Unavailable',
        lease_owner: null,
        finished_at: null,
      });
      const next = await nextAttemptFrom(id, before, after);
      expect(next.from_before).toBeGreaterThanOrEqual(30);
      expect(next.from_after).toBeLessThanOrEqual(30);
      await expect(webhooks.take('replica-a', 60_000, 10)).resolves.toEqual([]);
      await expect(
        webhooks.attemptFailed(id, 'replica-a', { httpStatus: 500, error: 'no longer held' }, 0, 24),
      ).resolves.toBeUndefined();
      await expect(world.tasks.get(id)).resolves.toMatchObject({
        webhook: {
          status: 'pending',
          attempts: 1,
          last_status: 503,
          last_error: 'HTTP 503 Service Unavailable',
          next_attempt_at: expect.any(String) as unknown,
          finished_at: null,
        },
      });
    });

    it('records an attempt that got no answer, and a delivery due at once is taken again', async () => {
      const [id] = await queueDeliveries(1);
      await webhooks.take('replica-a', 60_000, 10);

      await expect(
        webhooks.attemptFailed(id, 'replica-a', { httpStatus: null, error: 'connect ECONNREFUSED' }, 0, 24),
      ).resolves.toBe('pending');

      await expect(deliveryOf(id)).resolves.toMatchObject({ last_status: null, last_error: 'connect ECONNREFUSED' });
      await expect(webhooks.take('replica-b', 60_000, 10)).resolves.toMatchObject([{ task_id: id, attempts: 2 }]);
      await expect(deliveryOf(id)).resolves.toMatchObject({ lease_owner: 'replica-b', attempts: 2 });
    });

    it('gives up when the retry would fall past retryHours after the delivery was queued', async () => {
      const [id, young] = await queueDeliveries(2);
      await world.sql(`UPDATE webhook_deliveries SET created_at = now() - interval '2 hours' WHERE task_id = $1`, [id]);
      await webhooks.take('replica-a', 60_000, 10);
      const held = await deliveryOf(id);

      await expect(
        webhooks.attemptFailed(id, 'replica-a', { httpStatus: 502, error: 'HTTP 502' }, 1_000, 1),
      ).resolves.toBe('failed');
      // The young one is still within its hour with a retry in 30 minutes, but not with one in 2 hours.
      await expect(
        webhooks.attemptFailed(young, 'replica-a', { httpStatus: 502, error: 'HTTP 502' }, 30 * 60_000, 1),
      ).resolves.toBe('pending');
      await world.sql(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE task_id = $1`, [young]);
      expect(await webhooks.take('replica-a', 60_000, 10)).toMatchObject([{ task_id: young, attempts: 2 }]);
      await expect(
        webhooks.attemptFailed(young, 'replica-a', { httpStatus: 502, error: 'HTTP 502' }, 2 * 3_600_000, 1),
      ).resolves.toBe('failed');

      await expect(deliveryOf(id)).resolves.toEqual({
        ...held,
        status: 'failed',
        last_status: 502,
        last_error: 'HTTP 502',
        lease_owner: null,
        finished_at: expect.any(Date) as unknown,
      });
      await expect(world.tasks.get(id)).resolves.toMatchObject({
        webhook: { status: 'failed', attempts: 1, next_attempt_at: null, finished_at: expect.any(String) as unknown },
      });
      await expect(deliveryOf(young)).resolves.toMatchObject({ status: 'failed', attempts: 2 });
      await world.sql(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 hour'`);
      await expect(webhooks.take('replica-a', 60_000, 10)).resolves.toEqual([]);
      await expect(webhooks.backlog()).resolves.toEqual({ pending: 0, oldest_s: 0 });
    });
  });

  it('once a lease runs out another replica takes the delivery, and the first one’s outcome no longer lands', async () => {
    const [id] = await queueDeliveries(1);
    const [first] = await webhooks.take('replica-a', 200, 10);
    expect(first).toMatchObject({ task_id: id, attempts: 1 });
    await waitUntil(
      async () =>
        (
          await world.sql<{ due: boolean }>(
            `SELECT next_attempt_at <= now() AS due FROM webhook_deliveries WHERE task_id = $1`,
            [id],
          )
        )[0]?.due === true,
      { describe: 'the lease of replica-a to run out' },
    );

    const [second] = await webhooks.take('replica-b', 60_000, 10);

    expect(second).toEqual({ ...first, attempts: 2 });
    await expect(webhooks.delivered(id, 'replica-a', 200)).resolves.toBeUndefined();
    await expect(
      webhooks.attemptFailed(id, 'replica-a', { httpStatus: 500, error: 'late' }, 0, 24),
    ).resolves.toBeUndefined();
    await expect(deliveryOf(id)).resolves.toMatchObject({
      status: 'pending',
      attempts: 2,
      lease_owner: 'replica-b',
      last_status: null,
      last_error: null,
    });
    await expect(webhooks.delivered(id, 'replica-b', 200)).resolves.toEqual(first.created_at);
    await expect(deliveryOf(id)).resolves.toMatchObject({ status: 'delivered', last_status: 200 });
  });

  describe('backlog', () => {
    it('is empty with no delivery', async () => {
      await expect(webhooks.backlog()).resolves.toEqual({ pending: 0, oldest_s: 0 });
    });

    it('counts the pending deliveries, leased or not, and how long the oldest has waited', async () => {
      const [oldest, leased, delivered, failed, plain] = await queueDeliveries(5);
      const [{ at }] = await world.sql<{ at: string }>(
        `UPDATE webhook_deliveries SET created_at = now() - interval '100 seconds' WHERE task_id = $1
         RETURNING now()::text AS at`,
        [oldest],
      );
      await world.sql(`UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE task_id <> $1`, [
        leased,
      ]);
      expect(await webhooks.take('replica-a', 60_000, 10)).toMatchObject([{ task_id: leased }]);
      await world.sql(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE task_id = ANY($1)`, [
        [delivered, failed],
      ]);
      expect(sortedIds(await webhooks.take('replica-a', 60_000, 10))).toEqual([delivered, failed].sort());
      await expect(webhooks.delivered(delivered, 'replica-a', 200)).resolves.toEqual(expect.any(Date));
      await expect(
        webhooks.attemptFailed(failed, 'replica-a', { httpStatus: 410, error: 'HTTP 410' }, 3_600_000, 0),
      ).resolves.toBe('failed');

      const backlog = await webhooks.backlog();
      const after = await dbNow();

      expect(backlog.pending).toBe(3);
      const [{ elapsed }] = await world.sql<{ elapsed: number }>(
        `SELECT extract(epoch FROM $2::timestamptz - $1::timestamptz)::float8 AS elapsed`,
        [at, after],
      );
      expect(backlog.oldest_s).toBeGreaterThanOrEqual(100);
      expect(backlog.oldest_s).toBeLessThanOrEqual(100 + elapsed + 1e-6);
      await expect(deliveryOf(plain)).resolves.toMatchObject({ status: 'pending' });
    });
  });

  describe('deleting the task', () => {
    it('removes its delivery, by the sweeper or by hand', async () => {
      const [swept, kept, deleted] = await queueDeliveries(3);
      await world.sql(`UPDATE tasks SET completed_at = now() - interval '2 days' WHERE id = $1`, [swept]);

      await expect(world.tasks.sweepFinished(1, 100)).resolves.toBe(1);
      await world.sql(`DELETE FROM tasks WHERE id = $1`, [deleted]);

      const left = await world.sql<{ task_id: string }>(`SELECT task_id FROM webhook_deliveries`);
      expect(left).toEqual([{ task_id: kept }]);
      await expect(world.tasks.get(swept)).resolves.toBeUndefined();
    });
  });
});

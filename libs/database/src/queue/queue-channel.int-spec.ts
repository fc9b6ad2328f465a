import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { pollUntil } from '../../../../test/support/poll.js';
import { openStoreWorld, STORE_REPLICA_ID, type StoreWorld } from '../../../../test/support/store-fixture.js';
import type { QueueListener } from './queue-listener.js';
import {
  CANCEL_CHANNEL,
  parseCancel,
  parseWake,
  WAKE_CHANNEL,
  type CancelNotice,
  type WakeReason,
} from './queue-payloads.js';

type Heard = { wake: WakeReason } | { cancel: CancelNotice };

/** QueueChannel on a real PostgreSQL: what it sends, and its listener hearing it (docs/architecture.md, "Wake-ups"). */
describe('QueueChannel', () => {
  let world: StoreWorld;

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** A raw connection on both channels, and what it heard: [channel, payload]. */
  async function rawListener(): Promise<{ client: pg.Client; heard: [string, string][] }> {
    const client = await world.client();
    const heard: [string, string][] = [];
    client.on('notification', (msg) => heard.push([msg.channel, msg.payload ?? '']));
    await client.query(`LISTEN ${WAKE_CHANNEL}; LISTEN ${CANCEL_CHANNEL}`);
    return { client, heard };
  }

  /**
   * Waits until `count` notifications are in and answers them. Each test's last one is a marker it sends itself:
   * notifications arrive in commit order, so by the marker every earlier one (and any unexpected one) is in.
   */
  async function heardAfter<T>(heard: T[], count: number, what: string): Promise<T[]> {
    await pollUntil(
      () => heard.length,
      (n) => n >= count,
      { describe: what },
    );
    return [...heard];
  }

  it('notifyWake sends one payload per reason, as the listener parses them', async () => {
    const { heard } = await rawListener();

    await world.channel.notifyWake(['task', 'capacity']);
    await world.channel.notifyWake([]);
    await world.channel.notifyWake(['capacity']);
    await world.sql(`SELECT pg_notify($1, 'marker')`, [WAKE_CHANNEL]);

    const got = await heardAfter(heard, 4, 'three wake-ups and the marker');
    expect(got).toEqual([
      [WAKE_CHANNEL, `task ${STORE_REPLICA_ID}`],
      [WAKE_CHANNEL, ''],
      [WAKE_CHANNEL, ''],
      [WAKE_CHANNEL, 'marker'],
    ]);
    expect(got.slice(0, 3).map(([, payload]) => parseWake(payload))).toEqual([
      { reason: 'task', from: STORE_REPLICA_ID },
      { reason: 'capacity' },
      { reason: 'capacity' },
    ]);
    // An older replica's bare 'task' is still a wake for tasks.
    expect(parseWake('task')).toEqual({ reason: 'task' });
  });

  it('notifyCancel sends each task id, with the agent when given', async () => {
    const { heard } = await rawListener();
    const [a, b] = [randomUUID(), randomUUID()];

    await world.channel.notifyCancel([a, b]);
    await world.channel.notifyCancel([a], 'agent-7');
    await world.channel.notifyCancel([]);
    await world.sql(`SELECT pg_notify($1, 'marker')`, [WAKE_CHANNEL]);

    const got = await heardAfter(heard, 4, 'three cancellations and the marker');
    expect(got).toEqual([
      [CANCEL_CHANNEL, a],
      [CANCEL_CHANNEL, b],
      [CANCEL_CHANNEL, `${a} agent-7`],
      [WAKE_CHANNEL, 'marker'],
    ]);
    expect(got.slice(0, 3).map(([, payload]) => parseCancel(payload))).toEqual([
      { taskId: a },
      { taskId: b },
      { taskId: a, agentId: 'agent-7' },
    ]);
  });

  it('notifyCancel inside a transaction is delivered at its commit, and never after a rollback', async () => {
    const { heard } = await rawListener();
    const [committed, rolledBack] = [randomUUID(), randomUUID()];

    await world.runner.transaction(async (tx) => {
      await world.channel.notifyCancel([committed], 'agent-1', tx);
      await world.sql(`SELECT pg_notify($1, 'sent outside, before the commit')`, [WAKE_CHANNEL]);
      await heardAfter(heard, 1, 'the notification sent outside the transaction');
    });
    await expect(
      world.runner.transaction(async (tx) => {
        await world.channel.notifyCancel([rolledBack], undefined, tx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await world.sql(`SELECT pg_notify($1, 'marker')`, [WAKE_CHANNEL]);

    await expect(heardAfter(heard, 3, 'the committed cancellation and the marker')).resolves.toEqual([
      [WAKE_CHANNEL, 'sent outside, before the commit'],
      [CANCEL_CHANNEL, `${committed} agent-1`],
      [WAKE_CHANNEL, 'marker'],
    ]);
  });

  it('listen() hears wake-ups and cancellations as events, from its start until it is stopped', async () => {
    const events: Heard[] = [];
    let listener: QueueListener | undefined;
    try {
      listener = await world.channel.listen({
        onWake: (wake) => events.push({ wake }),
        onCancel: (cancel) => events.push({ cancel }),
      });
      // Connected: it announces capacity once, as events may have been missed before.
      expect(events).toEqual([{ wake: 'capacity' }]);
      const task = randomUUID();

      // Its own replica's wake for tasks is not heard (it woke its dispatcher itself); another replica's is.
      await world.channel.notifyWake(['task', 'capacity']);
      await world.sql(`SELECT pg_notify($1, 'task another-replica')`, [WAKE_CHANNEL]);
      await world.channel.notifyCancel([task]);
      await world.channel.notifyCancel([task], 'agent-2');
      await world.sql(`SELECT pg_notify($1, 'marker')`, [CANCEL_CHANNEL]);

      await expect(heardAfter(events, 9, 'the wake-ups, cancellations and the marker')).resolves.toEqual([
        { wake: 'capacity' },
        { wake: 'capacity' },
        { wake: 'task' },
        { cancel: { taskId: task } },
        { wake: 'capacity' },
        { cancel: { taskId: task, agentId: 'agent-2' } },
        { wake: 'capacity' },
        { cancel: { taskId: 'marker' } },
        { wake: 'capacity' },
      ]);
      const connected = await world.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'hive-listener' AND datname = $1`,
        [world.db.name],
      );
      expect(connected).toEqual([{ n: 1 }]);
    } finally {
      await listener?.stop();
    }
    await pollUntil(
      () =>
        world.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'hive-listener' AND datname = $1`,
          [world.db.name],
        ),
      (rows) => rows[0]?.n === 0,
      { describe: 'the listener’s connection to close' },
    );
  });
});

import { randomUUID } from 'node:crypto';
import { waitUntil } from '../../../../test/support/poll.js';
import {
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import { TASK_CHANNEL, parseTaskIds } from '../queue/queue-payloads.js';
import type { ClaimedTask } from './tasks/claim.types.js';
import type { GatewayDialect, HeldTask, NewTask, TaskRetain } from './tasks/task.types.js';

/** The ends a task can reach, and what ends it once it is running. */
type Ending = 'completed' | 'failed' | 'cancelled';

/** What a gateway call stores: an OpenAI-shaped chat, with an input and a context of its own. */
const CALL_INPUT = { messages: [{ role: 'user', content: 'What is the capital of France?' }] };
const CALL_CONTEXT = { client: 'openai-node', note: 'kept only with retain full' };

/** What an answer keeps under retain metadata: the model, why it stopped, the token counts and the durations. */
const METADATA = {
  model: 'llama3',
  done_reason: 'stop',
  prompt_eval_count: 12,
  eval_count: 3,
  total_duration: 1_500_000_000,
  eval_duration: 500_000_000,
};

/** An answer of each operation: its content (what metadata-only retention forgets) beside its metadata. */
const ANSWERS = {
  chat: {
    ...METADATA,
    message: {
      role: 'assistant',
      content: 'Paris.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: { city: 'Paris' } } }],
    },
  },
  generate: { ...METADATA, response: 'Paris.' },
  embed: { ...METADATA, embeddings: [[0.25, -0.5, 1]] },
} as const;

/**
 * What commit "Gateway" added to the tasks table, on a real PostgreSQL: the dialect a call came through and how
 * long its content is kept (`gateway`, `retain`), cancelling a call still in the queue (`cancelPending`), and
 * forgetting the content of ended calls kept as metadata only (`forgetContent`, `forgetLeftContent`).
 */
describe('TaskStore (gateway calls)', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';
  const at = expect.any(String) as unknown as string;

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** Claims every due task of `type` its agents have room for, under `replicaId`. */
  const claimAll = async (type: string): Promise<ClaimedTask[]> =>
    (await world.tasks.claim(replicaId, 60_000, 500, plannerFor([type], 500))).tasks;

  const heldOf = (task: ClaimedTask): HeldTask => ({ taskId: task.id, agentId: task.agent.id, replicaId });

  /** A gateway call's task: its dialect, its retention, its input and context. */
  const callTask = (type: string, retain: TaskRetain, overrides: Partial<NewTask> = {}): NewTask =>
    newTask(type, {
      operation: 'chat',
      gateway: 'openai',
      retain,
      input: CALL_INPUT,
      context: CALL_CONTEXT,
      ...overrides,
    });

  async function submitted(task: NewTask): Promise<string> {
    const stored = await world.tasks.submit(task);
    if (stored === undefined) throw new Error('the task was not stored');
    return stored.id;
  }

  /** A call of a type of its own, submitted and claimed: in_progress under `replicaId`. */
  async function runningCall(retain: TaskRetain, overrides: Partial<NewTask> = {}) {
    const { type } = await registerType(world);
    const id = await submitted(callTask(type, retain, overrides));
    const claimed = await claimAll(type);
    expect(claimed.map((t) => t.id)).toEqual([id]);
    return { id, held: heldOf(claimed[0]) };
  }

  /** A call run to `ending`, with `answer` as its result when it completed. */
  async function endedCall(
    retain: TaskRetain,
    ending: Ending,
    answer: object = ANSWERS.chat,
    overrides: Partial<NewTask> = {},
  ): Promise<string> {
    const { id, held } = await runningCall(retain, overrides);
    const ended = {
      completed: async () => (await world.tasks.completeBatch(replicaId, [{ ...held, result: answer }])).has(id),
      failed: () => world.tasks.fail(held, 'agent error: 500'),
      cancelled: async () => (await world.tasks.cancel(id))?.was === 'in_progress',
    }[ending];
    await expect(ended()).resolves.toBe(true);
    return id;
  }

  /** A pending call of a type of its own. */
  async function pendingCall(retain: TaskRetain = 'full'): Promise<{ type: string; id: string }> {
    const { type } = await registerType(world);
    return { type, id: await submitted(callTask(type, retain)) };
  }

  /** The whole row, to show that a statement left a task untouched (updated_at included). */
  const rowOf = async (id: string) =>
    (await world.sql<Record<string, unknown>>(`SELECT * FROM tasks WHERE id = $1`, [id]))[0];

  /** Moves a task's end `ago` into the past, as if it had ended then. */
  const endedAgo = (id: string, ago: string) =>
    world.sql(`UPDATE tasks SET completed_at = now() - $2::interval WHERE id = $1`, [id, ago]);

  /**
   * A raw connection listening on hive_task. `settle()` sends a marker and answers the task ids named before it:
   * notices arrive in commit order, so by then every notice committed earlier is in.
   */
  async function listen() {
    const client = await world.client();
    const payloads: string[] = [];
    client.on('notification', (msg) => payloads.push(msg.payload ?? ''));
    await client.query(`LISTEN ${TASK_CHANNEL}`);
    const named = (from: number, to = payloads.length) =>
      payloads
        .slice(from, to)
        .filter((p) => !p.startsWith('marker-'))
        .flatMap((p) => parseTaskIds(p));
    return {
      get heard(): number {
        return payloads.length;
      },
      async notified(id: string, from: number): Promise<void> {
        await waitUntil(() => named(from).includes(id), {
          describe: `a ${TASK_CHANNEL} notice naming task ${id}`,
          state: () => payloads.slice(from),
        });
      },
      async settle(from: number): Promise<string[]> {
        const marker = `marker-${randomUUID()}`;
        await world.sql(`SELECT pg_notify($1, $2)`, [TASK_CHANNEL, marker]);
        await waitUntil(() => payloads.includes(marker), {
          describe: `the marker ${marker}`,
          state: () => payloads.slice(from),
        });
        return named(from, payloads.indexOf(marker));
      },
    };
  }

  describe('gateway and retain', () => {
    it('submit stores them, and get and withEvents show them; unset, they read null and full', async () => {
      const { type } = await registerType(world);
      const openai = await submitted(callTask(type, 'metadata'));
      const ollama = await submitted(callTask(type, 'full', { gateway: 'ollama' }));
      const rest = await submitted(newTask(type));

      await expect(world.tasks.get(openai)).resolves.toMatchObject({ gateway: 'openai', retain: 'metadata' });
      await expect(world.tasks.get(ollama)).resolves.toMatchObject({ gateway: 'ollama', retain: 'full' });
      await expect(world.tasks.get(rest)).resolves.toMatchObject({ gateway: null, retain: 'full' });
      const withEvents = await world.tasks.withEvents([openai, ollama, rest]);
      const shown = new Map(withEvents.map((t) => [t.id, [t.gateway, t.retain, t.events]]));
      expect(shown).toEqual(
        new Map([
          [openai, ['openai', 'metadata', [{ seq: 1, status: 'pending', at }]]],
          [ollama, ['ollama', 'full', [{ seq: 1, status: 'pending', at }]]],
          [rest, [null, 'full', [{ seq: 1, status: 'pending', at }]]],
        ]),
      );
    });

    it('submitBatch and submitEach store each task its own', async () => {
      const { type } = await registerType(world);
      const batch = await world.tasks.submitBatch([
        callTask(type, 'metadata'),
        callTask(type, 'full', { gateway: 'ollama' }),
        newTask(type),
      ]);
      const each = await world.tasks.submitEach([
        callTask(type, 'metadata', { gateway: 'ollama' }),
        callTask(`unserved-${randomUUID()}`, 'metadata'),
        newTask(type, { retain: 'metadata' }),
      ]);
      expect(batch).toHaveLength(3);
      expect(each[1]).toBeUndefined();
      const ids = [...batch.map((t) => t.id), each[0]?.id ?? '', each[2]?.id ?? ''];

      const read = await Promise.all(ids.map((id) => world.tasks.get(id)));

      expect(read.map((t) => [t?.gateway, t?.retain])).toEqual([
        ['openai', 'metadata'],
        ['ollama', 'full'],
        [null, 'full'],
        ['ollama', 'metadata'],
        [null, 'metadata'],
      ]);
    });

    it('claim carries each task its gateway dialect (null for a REST task)', async () => {
      const { type } = await registerType(world, [3]);
      const openai = await submitted(callTask(type, 'full'));
      const ollama = await submitted(callTask(type, 'metadata', { gateway: 'ollama' }));
      const rest = await submitted(newTask(type));

      const claimed = await claimAll(type);

      expect(new Map(claimed.map((t) => [t.id, t.gateway]))).toEqual(
        new Map<string, GatewayDialect | null>([
          [openai, 'openai'],
          [ollama, 'ollama'],
          [rest, null],
        ]),
      );
    });

    // 23514: check_violation; 23502: not_null_violation.
    it.each([
      { column: 'gateway', value: 'grpc', shown: "'grpc'", code: '23514' },
      { column: 'gateway', value: '', shown: "''", code: '23514' },
      { column: 'retain', value: 'none', shown: "'none'", code: '23514' },
      { column: 'retain', value: 'FULL', shown: "'FULL'", code: '23514' },
      { column: 'retain', value: null, shown: 'NULL', code: '23502' },
    ])('the table refuses $column = $shown', async ({ column, value, code }) => {
      const { id } = await pendingCall();
      const before = await rowOf(id);

      await expect(world.sql(`UPDATE tasks SET ${column} = $2 WHERE id = $1`, [id, value])).rejects.toMatchObject({
        code,
      });

      await expect(rowOf(id)).resolves.toEqual(before);
    });

    it('the table refuses a submission with a dialect or a retention it does not know, and stores nothing', async () => {
      const { type } = await registerType(world);
      const count = async () =>
        (await world.sql<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE type = $1`, [type]))[0]?.n;

      await expect(world.tasks.submit(newTask(type, { gateway: 'anthropic' as GatewayDialect }))).rejects.toMatchObject(
        { code: '23514' },
      );
      await expect(
        world.tasks.submitBatch([newTask(type), newTask(type, { retain: 'forever' as TaskRetain })]),
      ).rejects.toMatchObject({ code: '23514' });

      await expect(count()).resolves.toBe(0);
    });
  });

  describe('cancelPending', () => {
    it('cancels a pending task: its cancelled event is appended and it is notified', async () => {
      const { id } = await pendingCall();
      const listener = await listen();
      const from = listener.heard;

      await expect(world.tasks.cancelPending(id)).resolves.toBe(true);

      await listener.notified(id, from);
      const [task] = await world.tasks.withEvents([id]);
      expect(task).toMatchObject({
        status: 'cancelled',
        completed_at: expect.any(Date) as unknown,
        events: [
          { seq: 1, status: 'pending', at },
          { seq: 2, status: 'cancelled', at },
        ],
      });
    });

    it('leaves a task that is in_progress as it is, and notifies nothing', async () => {
      const { id } = await runningCall('full');
      const before = await rowOf(id);
      const listener = await listen();
      const from = listener.heard;

      await expect(world.tasks.cancelPending(id)).resolves.toBe(false);

      await expect(listener.settle(from)).resolves.toEqual([]);
      await expect(rowOf(id)).resolves.toEqual(before);
      await expect(world.tasks.get(id)).resolves.toMatchObject({ status: 'in_progress' });
    });

    it.each(['completed', 'failed', 'cancelled'] as const)(
      'leaves a %s task as it is, and notifies nothing',
      async (ending) => {
        const id = await endedCall('full', ending);
        const before = await rowOf(id);
        const listener = await listen();
        const from = listener.heard;

        await expect(world.tasks.cancelPending(id)).resolves.toBe(false);

        await expect(listener.settle(from)).resolves.toEqual([]);
        await expect(rowOf(id)).resolves.toEqual(before);
      },
    );

    it('answers false for a task that does not exist', async () => {
      await expect(world.tasks.cancelPending(randomUUID())).resolves.toBe(false);
    });
  });

  describe('forgetContent', () => {
    it.each(Object.keys(ANSWERS) as (keyof typeof ANSWERS)[])(
      'forgets the input, the context and the %s content of a completed metadata-only call; metadata stays',
      async (operation) => {
        const id = await endedCall('metadata', 'completed', ANSWERS[operation]);
        const [before] = await world.tasks.withEvents([id]);

        await expect(world.tasks.forgetContent([id])).resolves.toBe(1);

        const [after] = await world.tasks.withEvents([id]);
        expect(after).toEqual({ ...before, input: null, context: {}, result: METADATA });
      },
    );

    it.each(['failed', 'cancelled'] as const)(
      'forgets the input and the context of a %s metadata-only call',
      async (ending) => {
        const id = await endedCall('metadata', ending);
        const [before] = await world.tasks.withEvents([id]);

        await expect(world.tasks.forgetContent([id])).resolves.toBe(1);

        const [after] = await world.tasks.withEvents([id]);
        expect(after).toEqual({ ...before, input: null, context: {} });
        expect(after?.status).toBe(ending);
      },
    );

    it('forgets a call that was cancelled while it waited in the queue', async () => {
      const { id } = await pendingCall('metadata');
      await expect(world.tasks.cancelPending(id)).resolves.toBe(true);

      await expect(world.tasks.forgetContent([id])).resolves.toBe(1);

      await expect(world.tasks.get(id)).resolves.toMatchObject({ status: 'cancelled', input: null, context: {} });
    });

    it('never touches a call kept in full, nor a metadata-only call still pending or in_progress', async () => {
      const full = await endedCall('full', 'completed');
      const pending = (await pendingCall('metadata')).id;
      const running = (await runningCall('metadata')).id;
      const ids = [full, pending, running];
      const before = await Promise.all(ids.map(rowOf));

      await expect(world.tasks.forgetContent(ids)).resolves.toBe(0);

      await expect(Promise.all(ids.map(rowOf))).resolves.toEqual(before);
      await expect(world.tasks.get(full)).resolves.toMatchObject({
        input: CALL_INPUT,
        context: CALL_CONTEXT,
        result: ANSWERS.chat,
      });
    });

    it('counts only the calls it changed: once forgotten, a call is not counted again', async () => {
      const forget = [await endedCall('metadata', 'completed'), await endedCall('metadata', 'failed')];
      const keep = await endedCall('full', 'completed');

      await expect(world.tasks.forgetContent([...forget, keep, randomUUID()])).resolves.toBe(2);
      const forgotten = await Promise.all(forget.map(rowOf));
      await expect(world.tasks.forgetContent([...forget, keep])).resolves.toBe(0);

      await expect(Promise.all(forget.map(rowOf))).resolves.toEqual(forgotten);
      await expect(world.tasks.forgetContent([])).resolves.toBe(0);
    });
  });

  /**
   * Ended calls whose replica stopped before forgetting them. The statement reads the whole table, so the ends are
   * moved days into the past, beyond the grace of `DAYS_9` that no other test in this file reaches; each test leaves
   * nothing behind that is both old enough and still to forget.
   */
  describe('forgetLeftContent', () => {
    const DAYS_9 = 9 * 24 * 3600;

    it('forgets the metadata-only calls that ended longer ago than the grace, and no other', async () => {
      const old = await endedCall('metadata', 'completed');
      const recent = await endedCall('metadata', 'completed');
      const oldFull = await endedCall('full', 'completed');
      const running = (await runningCall('metadata')).id;
      await endedAgo(old, '10 days');
      await endedAgo(recent, '8 days');
      await endedAgo(oldFull, '10 days');
      const untouched = [recent, oldFull, running];
      const before = await Promise.all(untouched.map(rowOf));

      await expect(world.tasks.forgetLeftContent(DAYS_9, 100)).resolves.toBe(1);

      await expect(world.tasks.get(old)).resolves.toMatchObject({
        status: 'completed',
        input: null,
        context: {},
        result: METADATA,
      });
      await expect(Promise.all(untouched.map(rowOf))).resolves.toEqual(before);
    });

    it('forgets at most `batch` calls at a time, and each only once', async () => {
      const { type } = await registerType(world, [3]);
      const tasks = await world.tasks.submitBatch([1, 2, 3].map(() => callTask(type, 'metadata')));
      const claimed = await claimAll(type);
      expect(claimed).toHaveLength(3);
      const ids = tasks.map((t) => t.id);
      const stored = await world.tasks.completeBatch(
        replicaId,
        claimed.map((t) => ({ ...heldOf(t), result: ANSWERS.generate })),
      );
      expect(stored.size).toBe(3);
      for (const id of ids) await endedAgo(id, '10 days');

      await expect(world.tasks.forgetLeftContent(DAYS_9, 2)).resolves.toBe(2);
      await expect(world.tasks.forgetLeftContent(DAYS_9, 2)).resolves.toBe(1);
      await expect(world.tasks.forgetLeftContent(DAYS_9, 2)).resolves.toBe(0);

      const after = await world.tasks.withEvents(ids);
      expect(after.map((t) => [t.input, t.context, t.result])).toEqual(ids.map(() => [null, {}, METADATA]));
    });
  });
});

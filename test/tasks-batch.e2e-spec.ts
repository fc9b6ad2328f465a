import { ISO_8601, messages, HiveApi, type NewTask, type SubmittedTask as Submitted } from './support/api.js';
import { dispatchOrder, orderPrompt, suiteFixture } from './support/hive-fixture.js';
import { createKey } from './support/test-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * POST /api/tasks/batch: 1–1000 tasks stored all or none, answered in the order given, validated per position,
 * refused whole when a type is served by no agent, and dispatched in the order given among equal priorities.
 */
describe('POST /api/tasks/batch (in-process Hive, real PostgreSQL, real agent servers)', () => {
  const world = suiteFixture();
  let api: HiveApi;
  /** An endpoint that answers like Ollama (so probes keep the agents online). */
  let endpoint: string;

  beforeAll(async () => {
    api = world().api;
    endpoint = (await world().agents.start()).url;
    await api.registerAgent({ id: 'coder-1', endpoint, specialty: 'code' });
    await api.registerAgent({ id: 'writer-1', endpoint, specialty: 'write' });
    // Disabled: their tasks stay pending, so what GET reads is exactly what was stored.
    await api.registerAgent({ id: 'held-1', endpoint, specialty: 'held', enabled: false });
    await api.registerAgent({ id: 'kept-1', endpoint, specialty: 'kept', enabled: false });
    await api.registerAgent({ id: 'bulk-1', endpoint, specialty: 'bulk', enabled: false });
  });

  const total = async (): Promise<number> => (await api.listTasks({ limit: 1 })).total;
  const filtered = async (type: string): Promise<number> => (await api.listTasks({ type, limit: 1 })).filtered;
  /** Types of this test's own, each served by a disabled agent: their tasks stay pending, and no other test's mix in. */
  const heldTypes = async (...types: string[]): Promise<void> => {
    for (const type of types) await api.registerAgent({ id: `${type}-1`, endpoint, specialty: type, enabled: false });
  };
  const submitBatch = (tasks: readonly unknown[], as: HiveApi = api) =>
    as.request<{ tasks: Submitted[] }>('POST', '/api/tasks/batch', { tasks });

  /** A 400 whose messages contain `text`; the answer is part of the expectation, so a failure shows it. */
  async function expect400(body: unknown, text: string): Promise<void> {
    const res = await api.request('POST', '/api/tasks/batch', body);
    expect({ status: res.status, messages: messages(res.body) }).toEqual({
      status: 400,
      messages: expect.arrayContaining([expect.stringContaining(text)]) as unknown,
    });
  }

  describe('accepted batches', () => {
    it('answers 201 with the stored tasks in the order given, each as GET /api/tasks/:id reads it', async () => {
      await heldTypes('ordered-a', 'ordered-b');
      const before = await total();
      const given: NewTask[] = [
        { type: 'ordered-a', priority: 5, context: { prompt: 'first' }, max_attempts: 7, timeout_ms: 5000 },
        {
          type: 'ordered-b',
          priority: 1,
          context: { prompt: 'second', nested: { list: [1, 'two', null], deep: { ok: true } } },
        },
        { type: 'ordered-a', priority: 4, context: { prompt: 'third' }, max_attempts: 1 },
        { type: 'ordered-b', priority: 2, context: { prompt: 'fourth' }, timeout_ms: 100 },
      ];
      const res = await submitBatch(given);
      expect(res.status).toBe(201);
      expect(Object.keys(res.body)).toEqual(['tasks']);
      const answered = res.body.tasks;
      expect(answered.map((t) => Object.keys(t).sort())).toEqual(
        given.map(() => ['context', 'created_at', 'id', 'model', 'operation', 'priority', 'status', 'type']),
      );
      expect(answered).toEqual(
        given.map((t) => ({
          id: expect.stringMatching(UUID) as unknown,
          type: t.type,
          operation: 'generate',
          model: null,
          priority: t.priority,
          status: 'pending',
          context: t.context,
          created_at: expect.stringMatching(ISO_8601) as unknown,
        })),
      );
      expect(new Set(answered.map((t) => t.id)).size).toBe(given.length);
      const created = answered.map((t) => Date.parse(t.created_at));
      expect(created).toEqual([...created].sort((a, b) => a - b)); // never older than the one given before

      const defaultAttempts = world().hive.config.coordinator.taskMaxAttempts;
      for (const [i, submitted] of answered.entries()) {
        await expect(api.getTask(submitted.id)).resolves.toEqual({
          ...submitted,
          input: null,
          assigned_agent: null,
          result: null,
          error: null,
          attempts: 0,
          max_attempts: given[i]?.max_attempts ?? defaultAttempts,
          timeout_ms: given[i]?.timeout_ms ?? null,
          stream: false,
          callback_url: null,
          webhook: null,
          gateway: null,
          retain: 'full',
          started_at: null,
          completed_at: null,
        });
      }
      await expect(total()).resolves.toBe(before + given.length);
      // Newest first: the listing of the batch is the order given, reversed (created_at grows with the position).
      const a = await api.listTasks({ type: 'ordered-a' });
      expect(a.tasks.map((t) => t.id)).toEqual([answered[2]?.id, answered[0]?.id]);
      const b = await api.listTasks({ type: 'ordered-b' });
      expect(b.tasks.map((t) => t.id)).toEqual([answered[3]?.id, answered[1]?.id]);
    });

    it('applies the defaults of POST /api/tasks to each task: priority 3, context {}, TASK_MAX_ATTEMPTS, no timeout', async () => {
      const res = await submitBatch([
        { type: 'held' },
        { type: 'kept', context: { prompt: 'x' } },
        { type: 'held', priority: 1 },
      ]);
      expect(res.status).toBe(201);
      expect(res.body.tasks).toMatchObject([
        { type: 'held', priority: 3, status: 'pending', context: {} },
        { type: 'kept', priority: 3, status: 'pending', context: { prompt: 'x' } },
        { type: 'held', priority: 1, status: 'pending', context: {} },
      ]);
      const defaultAttempts = world().hive.config.coordinator.taskMaxAttempts;
      for (const submitted of res.body.tasks) {
        await expect(api.getTask(submitted.id)).resolves.toMatchObject({
          id: submitted.id,
          priority: submitted.priority,
          context: submitted.context,
          max_attempts: defaultAttempts,
          timeout_ms: null,
          attempts: 0,
        });
      }
    });

    it('accepts a single task, and exactly 1000 tasks, answering every one in the order given', async () => {
      const one = await submitBatch([{ type: 'bulk', context: { n: -1 } }]);
      expect(one.status).toBe(201);
      expect(one.body.tasks).toMatchObject([{ type: 'bulk', priority: 3, context: { n: -1 }, status: 'pending' }]);

      const before = await total();
      const given = Array.from({ length: 1000 }, (_, n) => ({ type: 'bulk', priority: 1 + (n % 5), context: { n } }));
      const res = await submitBatch(given);
      expect(res.status).toBe(201);
      expect(res.body.tasks.map((t) => [t.context.n, t.priority, t.status])).toEqual(
        given.map((t) => [t.context.n, t.priority, 'pending']),
      );
      expect(new Set(res.body.tasks.map((t) => t.id)).size).toBe(1000);
      await expect(total()).resolves.toBe(before + 1000);
      const listed = await api.listTasks({ type: 'bulk', limit: 1000 });
      expect(listed.filtered).toBe(1001);
      expect(listed.tasks.map((t) => t.id)).toEqual(res.body.tasks.map((t) => t.id).reverse());
    });
  });

  describe('refused batches store nothing', () => {
    it.each([
      [2, 'priority', 6],
      [2, 'priority', 0],
      [1, 'priority', 2.5],
      [0, 'priority', 'high'],
      [1, 'priority', null],
      [2, 'type', 'Not A Type'],
      [0, 'type', undefined],
      [1, 'type', 42],
      [2, 'context', null],
      [2, 'context', 'text'],
      [1, 'context', [1, 2]],
      [0, 'context', 42],
      [2, 'max_attempts', 0],
      [1, 'max_attempts', 21],
      [2, 'timeout_ms', 10],
      [0, 'timeout_ms', 3_600_001],
    ])('tasks.%i.%s = %j → 400 naming tasks.<n>.<field>', async (index: number, field: string, value: unknown) => {
      const before = await total();
      const tasks: Record<string, unknown>[] = [
        { type: 'code' },
        { type: 'write', priority: 4 },
        { type: 'code', context: { prompt: 'p' } },
      ];
      tasks[index] = { ...tasks[index], [field]: value };
      await expect400({ tasks }, `tasks.${index}.${field}`);
      await expect(total()).resolves.toBe(before);
    });

    it('words the message by position, as the document shows it', async () => {
      const res = await submitBatch([{ type: 'code' }, { type: 'code' }, { type: 'code', priority: 6 }]);
      expect({ status: res.status, messages: messages(res.body) }).toEqual({
        status: 400,
        messages: ['tasks.2.priority must not be greater than 5'],
      });
    });

    it('names every faulty position at once', async () => {
      const before = await total();
      const res = await submitBatch([
        { type: 'code', priority: 9 },
        { type: 'code' },
        { type: 'Bad Type' },
        { type: 'code', max_attempts: 0 },
      ]);
      expect(res.status).toBe(400);
      const text = messages(res.body);
      for (const field of ['tasks.0.priority', 'tasks.2.type', 'tasks.3.max_attempts']) {
        expect(text).toEqual(expect.arrayContaining([expect.stringContaining(field)]));
      }
      expect(text.some((m) => m.includes('tasks.1.'))).toBe(false);
      await expect(total()).resolves.toBe(before);
    });

    it('refuses a field that does not exist, naming its position and its name', async () => {
      const before = await total();
      const res = await submitBatch([{ type: 'code' }, { type: 'code', color: 'blue' }]);
      expect({ status: res.status, messages: messages(res.body) }).toEqual({
        status: 400,
        messages: [expect.stringMatching(/^tasks\.1\..*\bcolor\b/) as unknown],
      });
      await expect(total()).resolves.toBe(before);
    });

    it.each([
      ['an empty list', { tasks: [] }, 'tasks must contain at least 1 element'],
      [
        '1001 tasks',
        { tasks: Array.from({ length: 1001 }, () => ({ type: 'code' })) },
        'tasks must contain no more than 1000 elements',
      ],
      ['no tasks field', {}, 'tasks must be an array'],
      ['tasks = null', { tasks: null }, 'tasks must be an array'],
      ['tasks as a string', { tasks: 'code' }, 'tasks must be an array'],
      ['tasks as one object', { tasks: { type: 'code' } }, 'tasks must be an array'],
      ['tasks as a number', { tasks: 3 }, 'tasks must be an array'],
    ])('%s → 400 naming tasks', async (_what: string, body: unknown, message: string) => {
      const before = await total();
      await expect400(body, message);
      await expect(total()).resolves.toBe(before);
    });

    it.each([
      ['a null task', [{ type: 'code' }, null]],
      ['a string task', ['code']],
      ['a number task', [{ type: 'code' }, { type: 'code' }, 7]],
    ])('%s in the list → 400, nothing stored', async (_what: string, tasks: unknown[]) => {
      const before = await total();
      const res = await submitBatch(tasks);
      expect({ status: res.status, messages: messages(res.body) }).toEqual({
        status: 400,
        messages: expect.arrayContaining([expect.stringContaining('tasks')]) as unknown,
      });
      await expect(total()).resolves.toBe(before);
    });

    it.each([
      ['alone', [[{ type: 'code' }]]],
      ['empty, after a task', [{ type: 'code' }, []]],
    ])(
      'a list in place of a task (%s) → 400 as a malformed task, not as an unserved type',
      async (_what: string, tasks: unknown[]) => {
        const before = await total();
        const res = await submitBatch(tasks);
        expect({ status: res.status, messages: messages(res.body) }).toEqual({
          status: 400,
          messages: [expect.stringMatching(/^tasks\b/) as unknown],
        });
        expect(messages(res.body).join(' ')).not.toMatch(/No registered agent|undefined/);
        await expect(total()).resolves.toBe(before);
      },
    );

    it('refuses a body that is a list of tasks rather than {tasks: [...]}', async () => {
      const before = await total();
      const res = await api.request('POST', '/api/tasks/batch', [{ type: 'code' }]);
      expect(res.status).toBe(400);
      await expect(total()).resolves.toBe(before);
    });

    it('refuses a whole batch when one type is served by no agent, naming it and listing the served types', async () => {
      const before = await total();
      const servedBefore = await Promise.all([filtered('code'), filtered('write')]);
      const res = await submitBatch([{ type: 'code' }, { type: 'astrology', priority: 5 }, { type: 'write' }]);
      expect(res.status).toBe(400);
      const text = messages(res.body).join(' ');
      expect(text).toContain('astrology');
      const [unserved = '', served = ''] = text.split(/served types/i);
      expect(unserved).toContain('astrology');
      expect(unserved).not.toMatch(/\b(code|write)\b/); // only the unserved type is named as unserved
      for (const type of ['code', 'write', 'held', 'kept', 'bulk']) expect(served).toMatch(new RegExp(`\\b${type}\\b`));
      expect(served).not.toContain('astrology');
      await expect(total()).resolves.toBe(before);
      await expect(Promise.all([filtered('code'), filtered('write')])).resolves.toEqual(servedBefore);
    });

    it('names every unserved type of a batch, each once', async () => {
      const before = await total();
      const res = await submitBatch([
        { type: 'alchemy' },
        { type: 'code' },
        { type: 'astrology' },
        { type: 'alchemy' },
      ]);
      expect(res.status).toBe(400);
      const [unserved = ''] = messages(res.body)
        .join(' ')
        .split(/served types/i);
      expect(unserved.match(/alchemy/g)).toHaveLength(1);
      expect(unserved.match(/astrology/g)).toHaveLength(1);
      expect(unserved).not.toMatch(/\bcode\b/);
      await expect(total()).resolves.toBe(before);
    });

    it('answers 403 to a viewer key and 401 without a key, storing nothing', async () => {
      const { hive } = world();
      const before = await total();
      const viewer = new HiveApi(hive.url, (await createKey(hive.url, 'viewer')).key);
      const forbidden = await submitBatch([{ type: 'code' }], viewer);
      expect({ status: forbidden.status, messages: messages(forbidden.body) }).toEqual({
        status: 403,
        messages: [expect.stringContaining('operator') as unknown],
      });
      const anonymous = await fetch(`${hive.url}/api/tasks/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tasks: [{ type: 'code' }] }),
      });
      expect(anonymous.status).toBe(401);
      await expect(total()).resolves.toBe(before);

      const operator = new HiveApi(hive.url, (await createKey(hive.url, 'operator')).key);
      const accepted = await submitBatch([{ type: 'held' }], operator);
      expect(accepted.status).toBe(201);
      await expect(total()).resolves.toBe(before + 1);
    });
  });

  describe('dispatch', () => {
    it('sends equal priorities of a batch in the order given, a higher priority first', async () => {
      const { agents } = world();
      const agent = await agents.start({ behavior: { kind: 'ok', delayMs: 5 } });
      await api.registerAgent({
        id: 'order-1',
        endpoint: agent.url,
        specialty: 'order',
        max_concurrent: 1,
        enabled: false,
      });
      // Mostly one priority, so that any tie broken otherwise than by position shows; two higher ones in the middle.
      const priorities = Array.from({ length: 30 }, (_, i) => (i === 11 ? 5 : i === 23 ? 4 : i % 7 === 3 ? 1 : 3));
      const res = await submitBatch(
        priorities.map((priority, i) => ({ type: 'order', priority, context: { prompt: orderPrompt(priority, i) } })),
      );
      expect(res.status).toBe(201);
      const queued = await api.listTasks({ type: 'order', status: 'pending' });
      expect(queued.filtered).toBe(priorities.length);
      expect(agent.requests).toHaveLength(0); // disabled: nothing was sent yet

      await api.updateAgent('order-1', { enabled: true });
      const tasks = await api.waitForTasks('order', 'completed', priorities.length);

      const expected = dispatchOrder(priorities);
      expect(expected.slice(0, 2)).toEqual(['p5-#11', 'p4-#23']);
      expect(agent.requests.map((r) => r.prompt)).toEqual(expected);
      expect(agent.maxInFlight).toBe(1);
      expect(tasks.every((t) => t.attempts === 1)).toBe(true);
    });

    it('keeps equal priorities of successive submissions in submission order: batch, single task, batch', async () => {
      const { agents } = world();
      const agent = await agents.start();
      await api.registerAgent({
        id: 'fifo-1',
        endpoint: agent.url,
        specialty: 'fifo',
        max_concurrent: 1,
        enabled: false,
      });
      const first = Array.from({ length: 8 }, (_, i) => ({ type: 'fifo', context: { prompt: `a${i}` } }));
      const second = Array.from({ length: 8 }, (_, i) => ({ type: 'fifo', context: { prompt: `c${i}` } }));
      expect((await submitBatch(first)).status).toBe(201);
      await api.submitTask({ type: 'fifo', context: { prompt: 'b' } });
      expect((await submitBatch(second)).status).toBe(201);

      await api.updateAgent('fifo-1', { enabled: true });
      await api.waitForTasks('fifo', 'completed', 17);
      const expected = [...first.map((t) => t.context.prompt), 'b', ...second.map((t) => t.context.prompt)];
      expect(agent.requests.map((r) => r.prompt)).toEqual(expected);
    });

    it('runs every task of a batch to completion and stores each result', async () => {
      const { agents } = world();
      const agent = await agents.start({ behavior: { kind: 'ok', delayMs: 10 } });
      await api.registerAgent({
        id: 'echo-1',
        endpoint: agent.url,
        specialty: 'echo',
        max_concurrent: 4,
        model: 'llama3:8b',
      });
      const prompts = Array.from({ length: 25 }, (_, i) => `say ${i} please`);
      const res = await submitBatch(
        prompts.map((prompt, i) => ({ type: 'echo', priority: 1 + (i % 5), context: { prompt } })),
      );
      expect(res.status).toBe(201);

      await api.waitForTasks('echo', 'completed', prompts.length);
      for (const [i, submitted] of res.body.tasks.entries()) {
        const task = await api.getTask(submitted.id);
        expect(task).toMatchObject({
          id: submitted.id,
          status: 'completed',
          assigned_agent: 'echo-1',
          attempts: 1,
          error: null,
          context: { prompt: prompts[i] },
          result: { response: `echo: ${prompts[i]}`, model: 'llama3:8b', done_reason: 'stop' },
        });
        expect(task.completed_at).toMatch(ISO_8601);
      }
      expect(agent.requests.map((r) => r.prompt).sort()).toEqual([...prompts].sort());
      expect(agent.maxInFlight).toBeLessThanOrEqual(4);
    });
  });
});

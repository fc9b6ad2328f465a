import { randomUUID } from 'node:crypto';
import { ISO_8601, messages, type Agent, type HiveApi, type SubmittedTask } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';

/** The REST contract of /api/agents and /api/tasks: validation, status codes, shapes, filters and ordering. */
describe('coordinator REST API (in-process Hive, real PostgreSQL, real agent server)', () => {
  const world = suiteFixture();
  let api: HiveApi;
  /** An endpoint that answers like Ollama (so probes keep the agents online). */
  let endpoint: string;

  beforeAll(async () => {
    api = world().api;
    endpoint = (await world().agents.start()).url;
  });

  /** A 400 whose messages name `field`; the answer is part of the expectation, so a failure shows it. */
  async function expect400(method: string, path: string, body: unknown, field: string, on = api): Promise<void> {
    const res = await on.request(method, path, body);
    expect({ status: res.status, messages: messages(res.body) }).toEqual({
      status: 400,
      messages: expect.arrayContaining([expect.stringContaining(field)]) as unknown,
    });
  }

  /** The ids of every registered agent, in the order GET /api/agents lists them. */
  const agentIds = async (): Promise<string[]> =>
    (await api.expect<{ agents: Agent[] }>(200, 'GET', '/api/agents')).agents.map((a) => a.id);

  describe('agents', () => {
    const valid = (id = 'coder-1') => ({ id, endpoint, model: 'llama3:8b', specialty: 'code' });

    it.each([
      ['endpoint', 'ftp://example.com'],
      ['endpoint', 'not a url'],
      ['id', 'Not A Slug!'],
      ['id', '-leading-dash'],
      ['max_concurrent', 0],
      ['max_concurrent', 1001],
      ['max_concurrent', 'abc'],
      ['kind', 'vllm'],
      ['kind', null],
      ['api_key', 'has spaces'],
      ['api_key', null],
      ['max_concurrent', null],
      ['endpoint', 'http://gpu-2:8000/v1'],
      ['specialty', undefined],
      ['color', 'blue'],
    ])('POST /api/agents with %s = %j → 400 naming it', async (field: string, value: unknown) => {
      const before = await agentIds();
      await expect400('POST', '/api/agents', { ...valid('rejected-1'), [field]: value }, field);
      // Nothing stored: not under the valid id, nor under the invalid one (the `id` cases).
      await expect(api.request('GET', '/api/agents/rejected-1')).resolves.toMatchObject({ status: 404 });
      await expect(agentIds()).resolves.toEqual(before);
    });

    it('registers (201), refuses a duplicate (409), lists and reads agents', async () => {
      const before = await agentIds();
      await expect(api.request('POST', '/api/agents', valid())).resolves.toEqual({
        status: 201,
        body: { status: 'success', message: 'Agent coder-1 registered', agent_id: 'coder-1' },
      });
      const duplicate = await api.request('POST', '/api/agents', { ...valid(), model: 'other' });
      expect({ status: duplicate.status, messages: messages(duplicate.body) }).toEqual({
        status: 409,
        messages: [expect.stringContaining('coder-1') as unknown],
      });
      await api.registerAgent({ id: 'writer-1', endpoint, specialty: 'write', max_concurrent: 5 });

      // Listed by id among whatever other tests registered: the two new ones in their order, the others as before.
      const list = await api.expect<{ agents: Agent[]; total: number }>(200, 'GET', '/api/agents');
      const mine = ['coder-1', 'writer-1'];
      const ids = list.agents.map((a) => a.id);
      expect(list.total).toBe(before.length + 2);
      expect(ids.filter((id) => mine.includes(id))).toEqual(mine);
      expect(ids.filter((id) => !mine.includes(id))).toEqual(before);
      const coder = await api.getAgent('coder-1');
      expect(coder).toEqual({
        id: 'coder-1',
        endpoint,
        model: 'llama3:8b',
        models: ['llama3:8b'], // what the probe found (the default model until then)
        loaded_models: [],
        specialty: 'code',
        kind: 'ollama',
        has_api_key: false,
        max_concurrent: 2,
        enabled: true,
        current_tasks: 0,
        status: 'available',
        consecutive_failures: 0,
        last_seen: coder.last_seen,
        last_error: null,
        models_probed_at: coder.models_probed_at,
        paused_until: null,
        created_at: expect.stringMatching(ISO_8601) as unknown,
      });
      const listed = list.agents.find((a) => a.id === 'coder-1');
      expect(listed).toEqual({ ...coder, last_seen: listed?.last_seen, models_probed_at: listed?.models_probed_at });
      await api.waitForAgent('coder-1', (a) => a.last_seen !== null, 'to be probed');
      const probed = await api.getAgent('coder-1');
      expect(probed.last_seen).toMatch(ISO_8601);
      expect(probed.models_probed_at).toMatch(ISO_8601);
    });

    it('updates with PATCH, validates it, and answers 404 for an unknown agent', async () => {
      await api.registerAgent({ id: 'patched-1', endpoint, specialty: 'write', max_concurrent: 5 });
      const updated = await api.updateAgent('patched-1', { model: 'llama3:70b', max_concurrent: 3, enabled: false });
      expect(updated).toMatchObject({
        id: 'patched-1',
        model: 'llama3:70b',
        max_concurrent: 3,
        enabled: false,
        status: 'offline',
      });
      await expect(api.getAgent('patched-1')).resolves.toMatchObject({
        model: 'llama3:70b',
        max_concurrent: 3,
        enabled: false,
      });
      await expect400('PATCH', '/api/agents/patched-1', { max_concurrent: 0 }, 'max_concurrent');
      await expect400('PATCH', '/api/agents/patched-1', { endpoint: 'ftp://x' }, 'endpoint');
      await expect400('PATCH', '/api/agents/patched-1', { specialty: 'other' }, 'specialty');
      await expect(api.request('PATCH', '/api/agents/nobody', { enabled: true })).resolves.toMatchObject({
        status: 404,
      });
      await expect(api.getAgent('patched-1')).resolves.toMatchObject({ specialty: 'write', max_concurrent: 3 });
    });

    it('deletes (200), then answers 404; 400 for an id that is not a slug', async () => {
      await api.registerAgent({ id: 'temp-1', endpoint, specialty: 'temp' });
      await expect(api.request('DELETE', '/api/agents/temp-1')).resolves.toEqual({
        status: 200,
        body: { status: 'success', message: 'Agent temp-1 removed', requeued_tasks: 0 },
      });
      await expect(api.request('GET', '/api/agents/temp-1')).resolves.toMatchObject({ status: 404 });
      await expect(api.request('DELETE', '/api/agents/temp-1')).resolves.toMatchObject({ status: 404 });
      await expect(api.request('DELETE', '/api/agents/nobody')).resolves.toMatchObject({ status: 404 });
      await expect400('GET', '/api/agents/Bad%20Id', undefined, 'id');
    });
  });

  describe('tasks', () => {
    it.each([
      ['priority', 0],
      ['priority', 6],
      ['priority', 2.5],
      ['priority', null],
      ['type', 'Not A Type'],
      ['context', 'text'],
      ['context', [1, 2]],
      ['context', 42],
      ['context', null],
      ['max_attempts', 0],
      ['timeout_ms', 10],
      ['color', 'blue'],
    ])('POST /api/tasks with %s = %j → 400 naming it', async (field: string, value: unknown) => {
      await expect400('POST', '/api/tasks', { type: 'code', [field]: value }, field);
    });

    it('refuses a type no agent serves, listing the served types', async () => {
      await api.registerAgent({ id: 'served-code', endpoint, specialty: 'code' });
      await api.registerAgent({ id: 'served-write', endpoint, specialty: 'write' });
      const res = await api.request('POST', '/api/tasks', { type: 'astrology' });
      expect(res.status).toBe(400);
      const text = messages(res.body).join(' ');
      expect(text).toContain('astrology');
      expect(text).toMatch(/code.*write/);
    });

    it('answers 404 for an unknown task, 400 for a malformed id', async () => {
      await expect(api.request('GET', `/api/tasks/${randomUUID()}`)).resolves.toMatchObject({ status: 404 });
      await expect(api.request('POST', `/api/tasks/${randomUUID()}/cancel`)).resolves.toMatchObject({ status: 404 });
      await expect400('GET', '/api/tasks/not-a-uuid', undefined, 'id');
      await expect400('POST', '/api/tasks/12345/cancel', undefined, 'id');
    });
  });

  /**
   * A Hive and database of its own, so that `total` (which counts every task) is exactly what this block stored,
   * whatever the other tests of the file did or will do.
   */
  describe('task listing', () => {
    const listing = suiteFixture();
    let api: HiveApi;
    const submitted: SubmittedTask[] = [];

    beforeAll(async () => {
      api = listing().api;
      const endpoint = (await listing().agents.start()).url;
      const refusing = await listing().agents.start({ behavior: { kind: 'error', status: 400, message: 'bad input' } });
      await api.registerAgent({ id: 'sum-ok', endpoint, specialty: 'summarize' });
      await api.registerAgent({ id: 'tr-bad', endpoint: refusing.url, specialty: 'translate' });
      await api.registerAgent({ id: 'cls-off', endpoint, specialty: 'classify', enabled: false });
      for (const [type, n] of [
        ['summarize', 3],
        ['translate', 2],
        ['classify', 2],
      ] as const) {
        for (let i = 0; i < n; i++)
          submitted.push(await api.submitTask({ type, priority: 1 + i, context: { prompt: `${type} ${i}` } }));
      }
      const cancelled = await api.cancelTask(submitted.at(-1)?.id ?? '');
      expect(cancelled.status).toBe(200);
      await api.waitForTasks('summarize', 'completed', 3);
      await api.waitForTasks('translate', 'failed', 2);
    });

    it('answers a submission with the stored task', () => {
      expect(Object.keys(submitted[0] ?? {}).sort()).toEqual([
        'context',
        'created_at',
        'id',
        'model',
        'operation',
        'priority',
        'status',
        'type',
      ]);
      expect(submitted[0]).toMatchObject({
        type: 'summarize',
        operation: 'generate',
        model: null,
        priority: 1,
        status: 'pending',
        context: { prompt: 'summarize 0' },
      });
      expect(submitted[0]?.created_at).toMatch(ISO_8601);
    });

    it('lists newest first with total and filtered counts', async () => {
      const all = await api.listTasks({ limit: 1000 });
      expect(all.total).toBe(7);
      expect(all.filtered).toBe(7);
      expect(all.tasks.map((t) => t.id)).toEqual(submitted.map((t) => t.id).reverse());
      const created = all.tasks.map((t) => Date.parse(t.created_at));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      await expect(api.listTasks()).resolves.toMatchObject({ total: 7 });
    });

    it('filters by status, type and agent, together with total', async () => {
      const completed = await api.listTasks({ status: 'completed', type: 'summarize' });
      expect(completed).toMatchObject({ total: 7, filtered: 3 });
      expect(completed.tasks.every((t) => t.status === 'completed' && t.type === 'summarize')).toBe(true);
      await expect(api.listTasks({ status: 'failed', type: 'translate' })).resolves.toMatchObject({ filtered: 2 });
      await expect(api.listTasks({ status: 'cancelled', type: 'classify' })).resolves.toMatchObject({ filtered: 1 });
      await expect(api.listTasks({ status: 'pending', type: 'classify' })).resolves.toMatchObject({ filtered: 1 });
      const byAgent = await api.listTasks({ agent: 'tr-bad' });
      expect(byAgent.filtered).toBe(2);
      expect(byAgent.tasks.map((t) => t.assigned_agent)).toEqual(['tr-bad', 'tr-bad']);
      await expect(api.listTasks({ agent: 'sum-ok', status: 'failed' })).resolves.toMatchObject({
        filtered: 0,
        tasks: [],
      });
    });

    it('pages with limit and offset; limit is 1..1000', async () => {
      const page1 = await api.listTasks({ type: 'summarize', limit: 2 });
      const page2 = await api.listTasks({ type: 'summarize', limit: 2, offset: 2 });
      expect(page1).toMatchObject({ filtered: 3 });
      expect([...page1.tasks, ...page2.tasks].map((t) => t.id)).toEqual(
        submitted
          .slice(0, 3)
          .map((t) => t.id)
          .reverse(),
      );
      await expect(api.listTasks({ type: 'summarize', offset: 3 })).resolves.toMatchObject({ tasks: [], filtered: 3 });
      await expect(api.listTasks({ limit: 1000 })).resolves.toMatchObject({ total: 7 });
      await expect400('GET', '/api/tasks?limit=1001', undefined, 'limit', api);
      await expect400('GET', '/api/tasks?limit=0', undefined, 'limit', api);
      await expect400('GET', '/api/tasks?offset=-1', undefined, 'offset', api);
      await expect400('GET', '/api/tasks?status=done', undefined, 'status', api);
    });

    it('reports results, errors and timestamps in ISO-8601', async () => {
      const done = await api.getTask(submitted[0]?.id ?? '');
      expect(done).toMatchObject({ status: 'completed', assigned_agent: 'sum-ok', attempts: 1, error: null });
      for (const at of [done.created_at, done.started_at, done.completed_at]) expect(at).toMatch(ISO_8601);
      const failed = await api.getTask(submitted[3]?.id ?? '');
      expect(failed).toMatchObject({ status: 'failed', attempts: 1, result: null });
      expect(failed.error).toContain('agent tr-bad: HTTP 400: bad input');
      expect(failed.completed_at).toMatch(ISO_8601);
    });
  });
});

import { HiveApi, messages, type ApiResponse, type Task } from './support/api.js';
import { AgentFleet, closeAll, suiteFixture } from './support/hive-fixture.js';
import { ReplicaSet } from './support/replica-set.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';
import type { AgentBehavior, OllamaAgent } from './support/ollama-agent.js';

/** A promise the test settles: the agent's answer waits for open(). */
interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A request in flight, and whether its answer has arrived yet (set in its .then, so no timing is involved). */
interface Pending<T> {
  readonly answer: Promise<T>;
  settled(): boolean;
}

function pending<T>(answer: Promise<T>): Pending<T> {
  let done = false;
  const tracked = answer.then(
    (value) => {
      done = true;
      return value;
    },
    (error: unknown) => {
      done = true;
      throw error;
    },
  );
  return { answer: tracked, settled: () => done };
}

/** A batch's answer. */
interface TaskBatch {
  tasks: Task[];
}

/** `?wait`: submissions and reads that answer once the task ended (in-process Hive, real PostgreSQL, real agents). */
describe('delivery: ?wait (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  let api: HiveApi;
  let opened: Gate[] = [];

  /** An agent of its own for `specialty` (one per test, so that no test's behaviours reach another). */
  async function agentFor(specialty: string, behavior: AgentBehavior, maxConcurrent = 1): Promise<OllamaAgent> {
    const agent = await world().agents.start({ behavior });
    await api.registerAgent({ id: `${specialty}-1`, endpoint: agent.url, specialty, max_concurrent: maxConcurrent });
    return agent;
  }

  /** A gate that afterEach opens if the test did not (so no agent call outlives its test). */
  function tracked(): Gate {
    const g = gate();
    opened.push(g);
    return g;
  }

  /** The only task of `type` (its id is not known to a request that is still waiting). */
  async function onlyTaskOf(type: string): Promise<Task> {
    const { tasks } = await api.tasksOfType(type);
    expect(tasks).toHaveLength(1);
    return tasks[0];
  }

  beforeAll(() => {
    api = world().api;
  });
  afterEach(() => {
    for (const g of opened) g.open();
    opened = [];
  });

  it('POST ?wait answers 200 with the completed task (status, result) once the agent has answered, not before', async () => {
    const answer = tracked();
    const agent = await agentFor('wpost', { kind: 'ok', response: 'forty-two', gate: answer.promise });

    const request = pending(
      api.request<Task>('POST', '/api/tasks?wait=30', { type: 'wpost', context: { prompt: 'q' } }),
    );
    await agent.waitForRequests(1);
    const running = await onlyTaskOf('wpost');
    expect(running.status).toBe('in_progress');
    expect(request.settled()).toBe(false);
    // The replica counts the request it holds open.
    expect(sampleValue(parseSamples(await scrape(world().hive.url)), 'hive_waiting_requests')).toBe(1);

    answer.open();
    const res = await request.answer;
    expect(sampleValue(parseSamples(await scrape(world().hive.url)), 'hive_waiting_requests')).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: running.id,
      status: 'completed',
      attempts: 1,
      assigned_agent: 'wpost-1',
      result: { response: 'forty-two' },
    });
    // The body is the task as GET shows it.
    expect(res.body).toEqual(await api.getTask(running.id));
  });

  it('POST ?wait=1 whose task has not ended in time answers 200 with its current state (in_progress, no result)', async () => {
    const answer = tracked();
    const agent = await agentFor('wslow', { kind: 'ok', gate: answer.promise });

    const res = await api.request<Task>('POST', '/api/tasks?wait=1', { type: 'wslow', context: { prompt: 'slow' } });
    expect(res.status).toBe(200);
    expect(['pending', 'in_progress']).toContain(res.body.status);
    expect(res.body).toMatchObject({ type: 'wslow', result: null, completed_at: null });
    // The agent still holds it: the answer came when the time was up, not because the task ended.
    expect(agent.inFlight).toBe(1);
    await expect(api.getTask(res.body.id)).resolves.toMatchObject({ status: 'in_progress' });

    answer.open();
    await expect(api.waitForTask(res.body.id, 'completed')).resolves.toMatchObject({
      result: { response: 'echo: slow' },
    });
  });

  it('without ?wait, POST still answers 201 with the pending task at once', async () => {
    const answer = tracked();
    await agentFor('wnone', { kind: 'ok', gate: answer.promise });
    const res = await api.request<Task>('POST', '/api/tasks', { type: 'wnone', context: { prompt: 'x' } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
  });

  it('POST /batch ?wait answers when every task has ended: not after the first two, only after the last', async () => {
    const gates = [tracked(), tracked(), tracked()];
    const agent = await agentFor('wbatch', { kind: 'ok' }, 3);
    agent.queueBehaviors(...gates.map((g): AgentBehavior => ({ kind: 'ok', gate: g.promise })));

    const prompts = ['b-0', 'b-1', 'b-2'];
    const request = pending(
      api.request<TaskBatch>('POST', '/api/tasks/batch?wait=30', {
        tasks: prompts.map((prompt) => ({ type: 'wbatch', context: { prompt } })),
      }),
    );
    await agent.waitForRequests(3);
    // Gate i holds the call that arrived i-th; its task is the one with that prompt.
    const arrival = agent.requests.map((r) => r.prompt);
    expect([...arrival].sort()).toEqual(prompts);
    const { tasks } = await api.tasksOfType('wbatch');
    const idOf = (prompt: string): string => {
      const task = tasks.find((t) => t.context.prompt === prompt);
      if (task === undefined) throw new Error(`no task for ${prompt}`);
      return task.id;
    };

    for (const i of [0, 1]) {
      gates[i]?.open();
      await api.waitForTask(idOf(arrival[i]), 'completed');
      expect(request.settled()).toBe(false);
    }
    gates[2]?.open();
    const res = await request.answer;
    expect(res.status).toBe(200);
    expect(res.body.tasks.map((t) => [t.id, t.status, t.result?.response])).toEqual(
      prompts.map((prompt) => [idOf(prompt), 'completed', `echo: ${prompt}`]),
    );
  });

  it('GET ?wait on a running task answers with the completed task once the agent has answered', async () => {
    const answer = tracked();
    const agent = await agentFor('wget', { kind: 'ok', response: 'done at last', gate: answer.promise });
    const submitted = await api.submitTask({ type: 'wget', context: { prompt: 'q' } });
    await agent.waitForRequests(1);

    const request = pending(api.request<Task>('GET', `/api/tasks/${submitted.id}?wait=30`));
    // A second, short wait that times out proves the task is still running (and the first request still waiting).
    const short = await api.request<Task>('GET', `/api/tasks/${submitted.id}?wait=1`);
    expect(short).toMatchObject({ status: 200, body: { status: 'in_progress', result: null } });
    expect(request.settled()).toBe(false);

    answer.open();
    const res = await request.answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: submitted.id, status: 'completed', result: { response: 'done at last' } });
    expect(res.body).toEqual(await api.getTask(submitted.id));
  });

  it('GET ?wait on a finished task answers it at once (a wait of 60 s in a test of 20 s)', async () => {
    await agentFor('wdone', { kind: 'ok', response: 'already' });
    const submitted = await api.submitTask({ type: 'wdone', context: { prompt: 'q' } });
    const finished = await api.waitForTask(submitted.id, 'completed');

    const res = await api.request<Task>('GET', `/api/tasks/${submitted.id}?wait=60`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(finished);
  }, 20_000);

  it('a task that fails ends the wait: 200 with status failed and the error', async () => {
    const answer = tracked();
    const agent = await agentFor('wfail', {
      kind: 'error',
      status: 500,
      message: 'model exploded',
      gate: answer.promise,
    });

    const request = pending(
      api.request<Task>('POST', '/api/tasks?wait=30', { type: 'wfail', max_attempts: 1, context: { prompt: 'q' } }),
    );
    await agent.waitForRequests(1);
    expect(request.settled()).toBe(false);

    answer.open();
    const res = await request.answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1, result: null });
    expect(res.body.error).toContain('model exploded');
  });

  it('a task cancelled by another request ends the wait: 200 with status cancelled', async () => {
    const answer = tracked();
    const agent = await agentFor('wcancel', { kind: 'ok', gate: answer.promise });

    const request = pending(
      api.request<Task>('POST', '/api/tasks?wait=30', { type: 'wcancel', context: { prompt: 'q' } }),
    );
    await agent.waitForRequests(1);
    const running = await onlyTaskOf('wcancel');
    expect(request.settled()).toBe(false);

    const cancelled = await api.cancelTask(running.id);
    expect(cancelled.status).toBe(200);
    const res = await request.answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: running.id, status: 'cancelled', result: null });
  });

  it('a pending task cancelled while a GET waits for it ends that wait too', async () => {
    // Disabled: the task stays pending.
    const agent = await world().agents.start();
    await api.registerAgent({ id: 'wparked-1', endpoint: agent.url, specialty: 'wparked', enabled: false });
    const submitted = await api.submitTask({ type: 'wparked', context: { prompt: 'never' } });

    const request = pending(api.request<Task>('GET', `/api/tasks/${submitted.id}?wait=30`));
    const short = await api.request<Task>('GET', `/api/tasks/${submitted.id}?wait=1`);
    expect(short.body.status).toBe('pending');
    expect(request.settled()).toBe(false);

    expect((await api.cancelTask(submitted.id)).status).toBe(200);
    await expect(request.answer).resolves.toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(agent.requests).toEqual([]);
  });

  it.each([
    ['POST /api/tasks', 'wmaxone', 'POST', '/api/tasks?wait=61'],
    ['POST /api/tasks/batch', 'wmaxbatch', 'POST', '/api/tasks/batch?wait=61'],
    ['GET /api/tasks/:id', 'wmaxget', 'GET', '/api/tasks/00000000-0000-4000-8000-000000000000?wait=61'],
  ])(
    '%s ?wait=61 (above TASK_WAIT_MAX_S) is refused with 400 naming TASK_WAIT_MAX_S; nothing is stored',
    async (_, type, method, path) => {
      await agentFor(type, { kind: 'ok' });
      const task = { type, context: { prompt: 'too long' } };
      const body = method === 'GET' ? undefined : path.includes('batch') ? { tasks: [task] } : task;

      const res = await api.request(method, path, body);
      expect(res.status).toBe(400);
      expect(messages(res.body)).toEqual([expect.stringMatching(/wait.*60.*TASK_WAIT_MAX_S/) as unknown]);
      expect((await api.tasksOfType(type)).tasks).toEqual([]);
    },
  );

  it.each([
    ['abc', 'POST', 'wbadpost'],
    ['abc', 'GET', 'wbadget'],
    ['1.5', 'POST', 'wbadfraction'],
    ['-1', 'GET', 'wbadnegative'],
  ])('?wait=%s on %s is refused with 400 naming wait', async (value, method, type) => {
    await agentFor(type, { kind: 'ok' });
    const submitted = method === 'GET' ? await api.submitTask({ type, context: { prompt: 'x' } }) : undefined;

    const res: ApiResponse =
      method === 'GET'
        ? await api.request('GET', `/api/tasks/${submitted?.id}?wait=${value}`)
        : await api.request('POST', `/api/tasks?wait=${value}`, { type, context: { prompt: 'x' } });
    expect(res.status).toBe(400);
    expect(messages(res.body).join('\n')).toMatch(/wait/);
    if (method === 'POST') expect((await api.tasksOfType(type)).tasks).toEqual([]);
  });
});

/** The waiting request on one replica, the task on another: the wait is woken through PostgreSQL. */
describe('delivery: ?wait across replicas (two real processes on one PostgreSQL database)', () => {
  const replicas = new ReplicaSet();
  const agents = new AgentFleet();
  let opened: Gate[] = [];

  beforeAll(async () => {
    await replicas.open();
  });
  afterEach(async () => {
    for (const g of opened) g.open();
    opened = [];
    await replicas.stopAll();
  });
  afterAll(async () => {
    await closeAll([() => agents.closeAll(), () => replicas.close()]);
  });

  it('GET ?wait on replica A answers with the completed task that replica B ran, once B’s agent answered', async () => {
    const answer = gate();
    opened.push(answer);
    const agent = await agents.start({ behavior: { kind: 'ok', response: 'from B', gate: answer.promise } });

    // Only B runs at first: it is the one that claims the task.
    const { other: a, taskId: id } = await replicas.taskHeldBy(
      'replica-b',
      'replica-a',
      { id: 'xwait-1', server: agent },
      { type: 'xwait', context: { prompt: 'cross' } },
    );
    await expect(replicas.leaseOf(id)).resolves.toEqual({ status: 'in_progress', lease_owner: 'replica-b' });
    const apiA = new HiveApi(a.url);
    const request = pending(apiA.request<Task>('GET', `/api/tasks/${id}?wait=30`));
    // A short wait on A that times out: the task is still running on B, and the long wait is under way.
    const short = await apiA.request<Task>('GET', `/api/tasks/${id}?wait=1`);
    expect(short).toMatchObject({ status: 200, body: { status: 'in_progress' } });
    expect(request.settled()).toBe(false);

    answer.open();
    const res = await request.answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: id,
      status: 'completed',
      attempts: 1,
      result: { response: 'from B' },
    });
    expect(agent.requests).toHaveLength(1);
    expect(res.body).toEqual(await apiA.getTask(id));
  }, 90_000);
});

import { ISO_8601 } from './support/api.js';
import { dispatchOrder, orderPrompt, suiteFixture } from './support/hive-fixture.js';

/** What Hive sends to an agent (model, prompt, system, options) and what it keeps of the answer; dispatch order. */
describe('dispatch: requests, results and order (in-process Hive, real PostgreSQL, real agent servers)', () => {
  const world = suiteFixture();

  it('runs a task and stores the answer fields of the agent as its result', async () => {
    const { api, agents } = world();
    const agent = await agents.start({
      behavior: { kind: 'ok', delayMs: 20, response: 'def hello():\n  print("hi")' },
    });
    await api.registerAgent({ id: 'happy-1', endpoint: agent.url, specialty: 'happy', model: 'llama3:8b' });
    const submitted = await api.submitTask({
      type: 'happy',
      priority: 4,
      context: { prompt: 'write hello world in python' },
    });

    const task = await api.waitForTask(submitted.id, 'completed');
    expect(task).toMatchObject({
      id: submitted.id,
      status: 'completed',
      assigned_agent: 'happy-1',
      attempts: 1,
      error: null,
    });
    expect(task.result).toEqual({
      response: 'def hello():\n  print("hi")',
      model: 'llama3:8b',
      done_reason: 'stop',
      prompt_eval_count: 5,
      eval_count: 3,
      total_duration: expect.any(Number) as unknown,
      eval_duration: expect.any(Number) as unknown,
    });
    expect(task.result?.total_duration).toBeGreaterThanOrEqual(20_000_000); // nanoseconds: the agent took 20 ms
    expect(task.result?.eval_duration).toBeGreaterThan(0);
    expect(task.started_at).toMatch(ISO_8601);
    expect(Date.parse(task.completed_at ?? '')).toBeGreaterThanOrEqual(Date.parse(task.started_at ?? ''));
    expect(agent.requests).toHaveLength(1);
    expect(agent.requests[0]?.body).toEqual({
      model: 'llama3:8b',
      prompt: 'write hello world in python',
      stream: false,
    });
    await expect(api.getAgent('happy-1')).resolves.toMatchObject({
      status: 'available',
      current_tasks: 0,
      consecutive_failures: 0,
    });
  });

  it('passes context.prompt, context.system and context.options through to the agent', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ models: ['mistral:7b'] });
    await api.registerAgent({ id: 'pass-1', endpoint: agent.url, specialty: 'passthrough', model: 'mistral:7b' });
    const options = { temperature: 0, num_predict: 64, stop: ['\n\n'] };
    const submitted = await api.submitTask({
      type: 'passthrough',
      context: { prompt: 'Summarize: the sky is blue.', system: 'Answer in one sentence.', options, ticket: 'T-1' },
    });

    const task = await api.waitForTask(submitted.id, 'completed');
    expect(task.result).toMatchObject({ response: 'echo: Summarize: the sky is blue.', model: 'mistral:7b' });
    expect(agent.requests[0]?.body).toEqual({
      model: 'mistral:7b',
      prompt: 'Summarize: the sky is blue.',
      system: 'Answer in one sentence.',
      options,
      stream: false,
    });
  });

  it('renders a context without a prompt into a readable prompt (system and options still passed apart)', async () => {
    const { api, agents } = world();
    const agent = await agents.start();
    await api.registerAgent({ id: 'render-1', endpoint: agent.url, specialty: 'review' });
    const context = {
      language: 'python',
      files: ['app.py', 'util.py'],
      limits: { max_lines: 200, strict: true },
      system: 'You are a reviewer.',
      options: { temperature: 0.2 },
    };
    const submitted = await api.submitTask({ type: 'review', context });

    await api.waitForTask(submitted.id, 'completed');
    const request = agent.requests[0];
    expect(request).toMatchObject({ system: 'You are a reviewer.', options: { temperature: 0.2 }, stream: false });
    const prompt = request?.prompt ?? '';
    for (const text of ['review', 'language: python', 'app.py', 'util.py', 'max_lines: 200', 'strict: true']) {
      expect(prompt).toContain(text);
    }
    expect(prompt).not.toContain('[object Object]');
    expect(prompt).not.toContain('You are a reviewer.');
    expect(prompt).not.toContain('temperature');
    expect(prompt).not.toMatch(/[{}"]/); // not JSON: one readable "key: value" per line
    expect(prompt.split('\n').length).toBeGreaterThanOrEqual(5);
  });

  it('dispatches the highest priority first and FIFO within a priority', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ behavior: { kind: 'ok', delayMs: 5 } });
    await api.registerAgent({
      id: 'order-1',
      endpoint: agent.url,
      specialty: 'order',
      max_concurrent: 1,
      enabled: false,
    });
    const priorities = [1, 3, 5, 3, 2, 5, 1, 4, 3, 5, 2, 4];
    for (const [i, priority] of priorities.entries()) {
      await api.submitTask({ type: 'order', priority, context: { prompt: orderPrompt(priority, i) } });
    }
    const queued = await api.listTasks({ type: 'order', status: 'pending' });
    expect(queued.filtered).toBe(priorities.length);
    expect(agent.requests).toHaveLength(0); // disabled: nothing was sent yet

    await api.updateAgent('order-1', { enabled: true });
    const tasks = await api.waitForTasks('order', 'completed', priorities.length);

    expect(agent.requests.map((r) => r.prompt)).toEqual(dispatchOrder(priorities));
    expect(agent.maxInFlight).toBe(1);
    expect(tasks.every((t) => t.attempts === 1)).toBe(true);
  });
});

import { messages, type NewAgent, type NewTask, type Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import type { OllamaAgent, OllamaAgentOptions } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';

const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

/** Which agent runs a task, by the model it names (and its type), among agents of both protocols; models that go. */
describe('placement by model across Ollama and OpenAI agents (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture();

  /** Starts an agent serving `models`, registers it, and waits until a probe has found them. */
  async function agentServing(
    registration: Omit<NewAgent, 'endpoint'> & { models: string[] },
    options: OllamaAgentOptions = {},
  ): Promise<OllamaAgent> {
    const { api, agents } = world();
    const { models, ...fields } = registration;
    const agent = await agents.start({ protocol: fields.kind ?? 'ollama', models, ...options });
    await api.registerAgent({ model: models[0], ...fields, endpoint: agent.url });
    await api.waitForModels(fields.id, models);
    return agent;
  }

  /** Submits the task and returns it once finished, after checking it completed. */
  async function runToEnd(task: NewTask): Promise<Task> {
    const { api } = world();
    const submitted = await api.submitTask({ context: { prompt: 'route me' }, ...task });
    const done = await api.waitForTask(submitted.id, finished);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: null });
    return done;
  }

  describe('a fleet of mixed kinds', () => {
    const fleet: Record<string, OllamaAgent> = {};

    beforeAll(async () => {
      fleet['gen-ollama'] = await agentServing({
        id: 'gen-ollama',
        specialty: 'general',
        models: ['llama3:8b', 'nomic-embed-text:latest'],
      });
      fleet['gen-openai'] = await agentServing({
        id: 'gen-openai',
        kind: 'openai',
        specialty: 'general',
        models: ['Qwen/Qwen2.5-7B-Instruct'],
      });
      fleet['code-ollama'] = await agentServing({
        id: 'code-ollama',
        specialty: 'code',
        models: ['mistral:7b', 'codellama:13b'],
      });
      fleet['code-openai'] = await agentServing({
        id: 'code-openai',
        kind: 'openai',
        specialty: 'code',
        models: ['gpt-oss-20b', 'llama3:8b'],
      });
    });

    it.each([
      { asked: { model: 'Qwen/Qwen2.5-7B-Instruct' }, agent: 'gen-openai', sent: 'Qwen/Qwen2.5-7B-Instruct' },
      { asked: { model: 'mistral:7b' }, agent: 'code-ollama', sent: 'mistral:7b' },
      { asked: { model: 'gpt-oss-20b', operation: 'chat' as const }, agent: 'code-openai', sent: 'gpt-oss-20b' },
      {
        asked: { model: 'nomic-embed-text', operation: 'embed' as const },
        agent: 'gen-ollama',
        sent: 'nomic-embed-text:latest',
      },
      { asked: { type: 'code', model: 'llama3:8b' }, agent: 'code-openai', sent: 'llama3:8b' },
      { asked: { type: 'general', model: 'llama3:8b' }, agent: 'gen-ollama', sent: 'llama3:8b' },
    ])('$asked goes to $agent, which is asked for $sent', async ({ asked, agent, sent }) => {
      const before = Object.fromEntries(Object.entries(fleet).map(([id, a]) => [id, a.requests.length]));
      const task = await runToEnd(asked);

      expect(task.assigned_agent).toBe(agent);
      const target = fleet[agent];
      expect(target?.requests.at(-1)?.model).toBe(sent);
      const received = Object.entries(fleet).filter(([id, a]) => a.requests.length > (before[id] ?? 0));
      expect(received.map(([id]) => id)).toEqual([agent]);
    });

    it('refuses a model no agent serves with 400, naming it and listing the served types and models', async () => {
      const res = await world().api.request('POST', '/api/tasks', { model: 'gemma2:2b', context: { prompt: 'hi' } });

      expect(res.status).toBe(400);
      const [message = ''] = messages(res.body);
      expect(message).toMatch(/^No registered agent serves model "gemma2:2b"; served types: .*; served models: .*/);
      for (const name of ['code', 'general', 'llama3:8b', 'Qwen/Qwen2.5-7B-Instruct', 'mistral:7b', 'codellama:13b']) {
        expect(message).toContain(name);
      }
    });

    it('refuses a model its type’s agents do not serve, even though another type’s agent does', async () => {
      const res = await world().api.request('POST', '/api/tasks', {
        type: 'code',
        model: 'Qwen/Qwen2.5-7B-Instruct',
        context: { prompt: 'hi' },
      });

      expect(res.status).toBe(400);
      expect(messages(res.body).join()).toContain(
        'No registered agent serves model "Qwen/Qwen2.5-7B-Instruct" for task type "code"',
      );
    });

    it('refuses a whole batch for one task at any position that no agent can run, storing none', async () => {
      const { api } = world();
      const before = (await api.listTasks()).total;
      const res = await api.request('POST', '/api/tasks/batch', {
        tasks: [
          { model: 'mistral:7b', context: { prompt: 'fine' } },
          { type: 'general', context: { prompt: 'fine too' } },
          { model: 'gemma2:2b', context: { prompt: 'nobody' } },
        ],
      });

      expect(res.status).toBe(400);
      const message = messages(res.body).join();
      expect(message).toContain('No registered agent serves model "gemma2:2b"');
      expect(message).not.toContain('"mistral:7b"'); // only what is missing is named
      await expect(api.listTasks()).resolves.toMatchObject({ total: before });
    });

    it('names only the task of a batch whose type and model no one agent serves together', async () => {
      const res = await world().api.request('POST', '/api/tasks/batch', {
        tasks: [
          { model: 'mistral:7b', context: { prompt: 'fine' } },
          { type: 'code', model: 'Qwen/Qwen2.5-7B-Instruct', context: { prompt: 'served apart, not together' } },
        ],
      });

      expect(res.status).toBe(400);
      const message = messages(res.body).join();
      expect(message).toContain('No registered agent serves model "Qwen/Qwen2.5-7B-Instruct" for task type "code"');
      expect(message).not.toContain('"mistral:7b"');
    });
  });

  it('an agent that drops a model: a probe takes it off its list, and new tasks for it go to the other agent', async () => {
    const { api } = world();
    const dropping = await agentServing({ id: 'drop-ollama', specialty: 'drop', models: ['llama3:8b', 'phi4:14b'] });
    const keeping = await agentServing({
      id: 'keep-openai',
      kind: 'openai',
      specialty: 'keep',
      models: ['phi4:14b'],
      max_concurrent: 1,
    });

    dropping.setModels(['llama3:8b']);
    const agent = await api.waitForModels('drop-ollama', ['llama3:8b']);
    expect(agent.models).toEqual(['llama3:8b']);
    // With one slot on the keeping agent, these would spill onto the dropping one if it still counted.
    const tasks = await Promise.all([1, 2, 3, 4].map(() => runToEnd({ model: 'phi4:14b' })));

    expect(tasks.map((t) => t.assigned_agent)).toEqual(Array(4).fill('keep-openai'));
    expect(tasks.map((t) => t.attempts)).toEqual([1, 1, 1, 1]);
    expect(dropping.requests.filter((r) => r.model === 'phi4:14b')).toHaveLength(0);
    expect(keeping.requests).toHaveLength(4);
  });

  it('a model found missing at call time (still listed, answered 404): the task goes to the other agent at once', async () => {
    const { api, hive } = world();
    const model = 'qwen2.5-coder:7b';
    const ollama = await agentServing({ id: 'late-ollama', specialty: 'late', models: [model] });
    const openai = await agentServing({ id: 'late-openai', kind: 'openai', specialty: 'late', models: [model] });
    // Whichever agent Hive picks first answers 404 for the model; the other then holds its answer until released.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first: OllamaAgent | undefined;
    for (const agent of [ollama, openai]) agent.setBehavior({ kind: 'model-not-found' });
    const stops = [ollama, openai].map((agent) =>
      agent.onRequest(() => {
        for (const stop of stops) stop();
        first = agent;
        (agent === ollama ? openai : ollama).setBehavior({ kind: 'ok', gate });
      }),
    );

    const submitted = await api.submitTask({ type: 'late', model, context: { prompt: 'reroute me' }, max_attempts: 2 });
    const second = await api.waitForTask(submitted.id, (t) => t.status === 'in_progress' && t.attempts === 2);
    if (first === undefined) throw new Error('no agent received the task');
    const [firstId, secondId] = first === ollama ? ['late-ollama', 'late-openai'] : ['late-openai', 'late-ollama'];
    const notFound =
      first === ollama ? `HTTP 404: model '${model}' not found` : `HTTP 404: The model \`${model}\` does not exist.`;
    expect(second).toMatchObject({ assigned_agent: secondId, error: `agent ${firstId}: ${notFound}` });
    release();

    const done = await api.waitForTask(submitted.id, finished);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: secondId, error: null });
    expect([ollama.requests.length, openai.requests.length]).toEqual([1, 1]);
    await waitUntil(() => hive.logs.text().includes(`Agent ${firstId} no longer serves model ${model}`), {
      describe: 'the log to say which agent lost the model',
    });
    // Not the agent's fault: it stays online.
    await expect(api.getAgent(firstId)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('an OpenAI agent that answers model_not_found, with no other agent serving the model: the task fails at once', async () => {
    const { api } = world();
    const agent = await agentServing(
      { id: 'gone-openai', kind: 'openai', specialty: 'gone', models: ['acme/solo-1'] },
      { behavior: { kind: 'model-not-found' } },
    );
    const submitted = await api.submitTask({ model: 'acme/solo-1', context: { prompt: 'hi' }, max_attempts: 5 });

    const task = await api.waitForTask(submitted.id, finished);
    expect(task).toMatchObject({ status: 'failed', attempts: 1, assigned_agent: 'gone-openai', result: null });
    expect(task.error).toBe('agent gone-openai: HTTP 404: The model `acme/solo-1` does not exist.');
    expect(agent.requests).toHaveLength(1);
  });

  it('a default model the agent does not serve: last_error says so, and tasks naming no model are refused', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ models: ['llama3:8b', 'gemma3:4b'] });
    await api.registerAgent({ id: 'no-default', endpoint: agent.url, specialty: 'nodefault', model: 'ghost:1b' });

    const probed = await api.waitForModels('no-default', ['llama3:8b', 'gemma3:4b']);
    expect(probed.last_error).toBe(
      'its default model ghost:1b is not among the models it serves (gemma3:4b, llama3:8b)',
    );
    expect(probed.status).toBe('available');
    const refused = await api.request('POST', '/api/tasks', { type: 'nodefault', context: { prompt: 'hi' } });
    expect(refused.status).toBe(400);
    // A model it does serve still runs there.
    const task = await runToEnd({ type: 'nodefault', model: 'gemma3:4b' });
    expect(task.assigned_agent).toBe('no-default');
    expect(agent.requests.map((r) => r.model)).toEqual(['gemma3:4b']);
  });
});

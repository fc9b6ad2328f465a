import type { Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import type { OllamaAgent } from './support/ollama-agent.js';

/**
 * Loads a model on an Ollama agent (or unloads it) the way another client of that machine would, behind Hive's back:
 * Ollama loads a model for an empty prompt, and unloads it for an empty prompt with keep_alive 0.
 */
async function loadBehindHivesBack(agent: OllamaAgent, model: string, unload = false): Promise<void> {
  const res = await fetch(`${agent.url}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: '', stream: false, ...(unload ? { keep_alive: 0 } : {}) }),
  });
  expect(res.status).toBe(200);
}

/** What Hive takes to be loaded on each agent (GET /api/agents/:id loaded_models), and the placement that uses it. */
describe('loaded models: found by probes, noted from calls, and preferred by placement (in-process Hive)', () => {
  const world = suiteFixture();

  async function runToEnd(task: { type: string; model: string }): Promise<Task> {
    const { api } = world();
    const submitted = await api.submitTask({ ...task, context: { prompt: 'warm?' } });
    const done = await api.waitForTask(submitted.id, (t) => t.status !== 'pending' && t.status !== 'in_progress');
    expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: null });
    return done;
  }

  const waitForLoaded = (id: string, loaded: readonly string[]) =>
    world().api.waitForAgent(
      id,
      (a) => JSON.stringify(a.loaded_models) === JSON.stringify(loaded),
      `to hold ${loaded.join(', ') || 'nothing'}`,
    );

  it('Ollama: a model another client loads or unloads shows in loaded_models after a probe (/api/ps)', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ models: ['llama3:8b', 'mistral:7b'] });
    await api.registerAgent({ id: 'ps-ollama', endpoint: agent.url, specialty: 'ps' });
    await expect(api.waitForModels('ps-ollama', ['llama3:8b', 'mistral:7b'])).resolves.toMatchObject({
      loaded_models: [],
    });

    await loadBehindHivesBack(agent, 'mistral:7b');
    await waitForLoaded('ps-ollama', ['mistral:7b']);
    await loadBehindHivesBack(agent, 'mistral:7b', true);
    await waitForLoaded('ps-ollama', []);
    expect(agent.requests.filter((r) => r.prompt !== '')).toHaveLength(0); // Hive itself sent nothing
  });

  it('OpenAI: loaded_models are the models Hive sent the agent, most recent first', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ protocol: 'openai', models: ['acme/a', 'acme/b'] });
    await api.registerAgent({
      id: 'sent-openai',
      kind: 'openai',
      endpoint: agent.url,
      specialty: 'sent',
      model: 'acme/a',
    });
    await expect(api.waitForModels('sent-openai', ['acme/a', 'acme/b'])).resolves.toMatchObject({ loaded_models: [] });

    await runToEnd({ type: 'sent', model: 'acme/b' });
    await waitForLoaded('sent-openai', ['acme/b']);
    await runToEnd({ type: 'sent', model: 'acme/a' });
    await waitForLoaded('sent-openai', ['acme/a', 'acme/b']);
  });

  it('places each task on the agent that holds its model loaded, among agents that both serve it', async () => {
    const { api, agents } = world();
    const models = ['llama3:8b', 'mistral:7b'];
    const a = await agents.start({ models });
    const b = await agents.start({ models });
    await api.registerAgent({ id: 'warm-a', endpoint: a.url, specialty: 'warm' });
    await api.registerAgent({ id: 'warm-b', endpoint: b.url, specialty: 'warm' });
    await loadBehindHivesBack(a, 'llama3:8b');
    await loadBehindHivesBack(b, 'mistral:7b');
    await waitForLoaded('warm-a', ['llama3:8b']);
    await waitForLoaded('warm-b', ['mistral:7b']);

    const placed: string[] = [];
    for (const model of ['mistral:7b', 'llama3:8b', 'mistral:7b', 'llama3:8b', 'mistral:7b', 'llama3:8b']) {
      placed.push(`${model} on ${(await runToEnd({ type: 'warm', model })).assigned_agent ?? '?'}`);
    }
    expect(placed).toEqual([
      'mistral:7b on warm-b',
      'llama3:8b on warm-a',
      'mistral:7b on warm-b',
      'llama3:8b on warm-a',
      'mistral:7b on warm-b',
      'llama3:8b on warm-a',
    ]);
  });
});

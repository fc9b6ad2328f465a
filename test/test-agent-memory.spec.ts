import { startOllamaAgent } from './support/ollama-agent.js';
import type { OllamaAgent, OllamaAgentOptions } from './support/ollama-agent.js';

/** A load that cannot end during a test (Jest's timeout is shorter): what is queued stays queued until close(). */
const NEVER_MS = 10 * 60_000;

describe('test agent model memory (real HTTP)', () => {
  let agent: OllamaAgent;

  const start = async (options: OllamaAgentOptions): Promise<void> => {
    agent = await startOllamaAgent({ models: ['a:1b', 'b:1b', 'c:1b'], ...options });
  };
  const generate = async (model: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const res = await fetch(`${agent.url}/api/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model, prompt: 'hi', stream: false, ...body }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const ps = async (): Promise<string[]> => {
    const { models } = (await (await fetch(`${agent.url}/api/ps`)).json()) as { models: { name: string }[] };
    return models.map((m) => m.name);
  };

  afterEach(async () => {
    await agent.close();
  });

  it('without memory: a model is loaded instantly on its first request and never evicted', async () => {
    await start({});
    expect(agent.loadedModels).toEqual([]);
    await expect(ps()).resolves.toEqual([]);

    for (const model of ['a:1b', 'b:1b', 'c:1b', 'a:1b']) await generate(model);
    expect(agent.loads).toBe(3);
    expect(agent.loadedModels).toEqual(['a:1b', 'c:1b', 'b:1b']);
    await expect(ps()).resolves.toEqual(['a:1b', 'c:1b', 'b:1b']);
  });

  it('evicts the least recently used model beyond maxLoaded; every request touches its model', async () => {
    await start({ memory: { maxLoaded: 2, loadDelayMs: 1 } });
    await generate('a:1b');
    await generate('b:1b');
    await generate('a:1b'); // a is now the most recent: b goes first
    expect(agent.loadedModels).toEqual(['a:1b', 'b:1b']);

    await generate('c:1b');
    expect(agent.loadedModels).toEqual(['c:1b', 'a:1b']);
    await expect(ps()).resolves.toEqual(['c:1b', 'a:1b']);
    expect(agent.loads).toBe(3);

    await generate('b:1b'); // evicted before: loaded again, evicting a
    expect(agent.loadedModels).toEqual(['b:1b', 'c:1b']);
    expect(agent.loads).toBe(4);
    expect(agent.psCalls).toBe(1);
  });

  it('counts the load in load_duration and total_duration, on every inference route', async () => {
    // Only lower bounds, which a slow machine cannot break.
    const loadDelayMs = 40;
    await start({ memory: { maxLoaded: 3, loadDelayMs } });
    const first = await generate('a:1b');
    expect(first.load_duration).toBeGreaterThanOrEqual(loadDelayMs * 1_000_000);
    expect(first.total_duration).toBeGreaterThan(Number(first.load_duration));

    const embedded = (await (
      await fetch(`${agent.url}/api/embed`, {
        method: 'POST',
        body: JSON.stringify({ model: 'b:1b', input: 'x' }),
      })
    ).json()) as Record<string, number>;
    expect(embedded.load_duration).toBeGreaterThanOrEqual(loadDelayMs * 1_000_000);

    const completion = await fetch(`${agent.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'c:1b', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(completion.status).toBe(200);
    await completion.arrayBuffer();
    expect(agent.loads).toBe(3);
    expect(agent.loadedModels).toEqual(['c:1b', 'b:1b', 'a:1b']);
  });

  it('loads one model at a time: a second load waits; requests for a model being loaded share its load', async () => {
    await start({ memory: { maxLoaded: 2, loadDelayMs: NEVER_MS } });
    const send = (model: string) =>
      fetch(`${agent.url}/api/generate`, {
        method: 'POST',
        body: JSON.stringify({ model, prompt: 'hi', stream: false }),
      });
    // Each request is taken (and its load asked for) as it is logged, so waiting for the log orders them.
    const pending = [send('a:1b')];
    await agent.waitForRequests(1);
    pending.push(send('a:1b'), send('b:1b'));
    await agent.waitForRequests(3);

    expect(agent.loads).toBe(1); // a's load; the second a shares it, b's waits for it to end
    expect(agent.loadedModels).toEqual([]);
    await expect(ps()).resolves.toEqual([]);
    expect(agent.inFlight).toBe(3);

    // close() ends the load under way and the requests waiting on it.
    await agent.close();
    const settled = await Promise.allSettled(pending);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('answers every request once its model is loaded, then loads the next model, evicting by LRU', async () => {
    await start({ memory: { maxLoaded: 1, loadDelayMs: 5 } });
    // Arrivals in a known order: a second request for a shares a's load (or finds a loaded), b's load comes after.
    const answers = [generate('a:1b')];
    await agent.waitForRequests(1);
    answers.push(generate('a:1b'));
    await agent.waitForRequests(2);
    answers.push(generate('b:1b'));
    await expect(Promise.all(answers)).resolves.toEqual([
      expect.objectContaining({ model: 'a:1b', response: 'echo: hi' }) as unknown,
      expect.objectContaining({ model: 'a:1b', response: 'echo: hi' }) as unknown,
      expect.objectContaining({ model: 'b:1b', response: 'echo: hi' }) as unknown,
    ]);
    expect(agent.loads).toBe(2);
    expect(agent.loadedModels).toEqual(['b:1b']);
  });

  it("unloads with an empty prompt and keep_alive 0, loads with an empty prompt, as Ollama's API does", async () => {
    await start({ memory: { maxLoaded: 2, loadDelayMs: 1 } });
    await expect(generate('a:1b', { prompt: '' })).resolves.toMatchObject({ done_reason: 'load' });
    expect(agent.loadedModels).toEqual(['a:1b']);
    await expect(generate('a:1b', { prompt: '', keep_alive: 0 })).resolves.toMatchObject({ done_reason: 'unload' });
    expect(agent.loadedModels).toEqual([]);
    expect(agent.loads).toBe(1);
  });

  it('reset() empties the memory and the load count', async () => {
    await start({ memory: { maxLoaded: 2, loadDelayMs: 1 } });
    await generate('a:1b');
    agent.reset();
    expect(agent.loadedModels).toEqual([]);
    expect(agent.loads).toBe(0);
    await generate('a:1b');
    expect(agent.loads).toBe(1);
  });
});

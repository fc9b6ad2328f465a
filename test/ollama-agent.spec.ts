import { startOllamaAgent } from './support/ollama-agent.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';

/** jest's asymmetric matchers are typed `any`; as `unknown` they go into expected objects without unsafe assignments. */
const anyString = expect.any(String) as unknown;

/** A promise and the function that settles it: the `gate` of a behaviour, opened when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('ollama test agent (real HTTP)', () => {
  let agent: OllamaAgent;

  const generate = (body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> =>
    fetch(`${agent.url}/api/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'llama3:8b', stream: false, ...body }),
      ...init,
    });

  beforeEach(async () => {
    agent = await startOllamaAgent();
  });

  afterEach(async () => {
    await agent.close();
  });

  /** Server-side bookkeeping (the socket's close) lags the client by a few ticks: wait for it, do not assume it. */
  const idle = () =>
    waitUntil(() => agent.inFlight === 0, { describe: 'inFlight to drop to 0', state: () => agent.inFlight });

  it('answers a non-streaming generate like Ollama, with consistent stats', async () => {
    const res = await generate({ prompt: 'why is the sky blue', system: 'be brief', options: { temperature: 0 } });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'llama3:8b',
      response: 'echo: why is the sky blue',
      done: true,
      done_reason: 'stop',
      context: [1, 2, 3],
      prompt_eval_count: 5,
      eval_count: 6,
    });
    expect(new Date(String(body.created_at)).toISOString()).toBe(body.created_at);
    for (const key of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
      expect(Number.isInteger(body[key])).toBe(true);
      expect(body[key]).toBeGreaterThan(0);
    }
    expect(Number(body.load_duration) + Number(body.prompt_eval_duration) + Number(body.eval_duration)).toBe(
      body.total_duration,
    );
    expect(agent.requests).toHaveLength(1);
    expect(agent.requests[0]).toMatchObject({
      model: 'llama3:8b',
      prompt: 'why is the sky blue',
      system: 'be brief',
      options: { temperature: 0 },
      stream: false,
    });
    expect(agent.inFlight).toBe(0);
  });

  it('answers an empty prompt with done_reason "load"', async () => {
    const res = await generate({ prompt: '' });
    await expect(res.json()).resolves.toMatchObject({ response: '', done: true, done_reason: 'load' });
  });

  it('rejects a body that is not JSON, and a missing model, with 400', async () => {
    const bad = await fetch(`${agent.url}/api/generate`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    await expect(bad.json()).resolves.toEqual({ error: anyString });

    const noModel = await generate({ model: undefined, prompt: 'hi' });
    expect(noModel.status).toBe(400);
    await expect(noModel.json()).resolves.toEqual({ error: 'model is required' });
  });

  it("answers 404 with Ollama's body for a model it does not have", async () => {
    const res = await generate({ model: 'mistral:7b', prompt: 'hi' });
    expect(res.status).toBe(404);
    await expect(res.json()).resolves.toEqual({ error: "model 'mistral:7b' not found" });

    agent.setBehavior({ kind: 'model-not-found' });
    const forced = await generate({ prompt: 'hi' });
    expect(forced.status).toBe(404);
    await expect(forced.json()).resolves.toEqual({ error: "model 'llama3:8b' not found" });
  });

  it("answers 503 busy with Ollama's exact message", async () => {
    agent.setBehavior({ kind: 'busy' });
    const res = await generate({ prompt: 'hi' });
    expect(res.status).toBe(503);
    await expect(res.json()).resolves.toEqual({
      error: 'server busy, please try again.  maximum pending requests exceeded',
    });
  });

  it('answers a configured error status with an Ollama error body', async () => {
    agent.setBehavior({ kind: 'error', status: 500, message: 'llama runner process has terminated' });
    const res = await generate({ prompt: 'hi' });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    await expect(res.json()).resolves.toEqual({ error: 'llama runner process has terminated' });
  });

  it('sends a 200 whose body is not JSON when malformed', async () => {
    agent.setBehavior({ kind: 'malformed' });
    const res = await generate({ prompt: 'hi' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('sends valid JSON without response/done when wrong-shape', async () => {
    agent.setBehavior({ kind: 'wrong-shape' });
    const body = (await (await generate({ prompt: 'hi' })).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('response');
    expect(body).not.toHaveProperty('done');
  });

  it('resets the connection when down', async () => {
    agent.setBehavior({ kind: 'down' });
    // fetch's TypeError comes from Node's realm, not Jest's, so match on the message and the socket error.
    await expect(generate({ prompt: 'hi' })).rejects.toMatchObject({
      message: 'fetch failed',
      cause: { code: 'ECONNRESET' },
    });
    await idle();
  });

  it('keeps a hanging request open until the client aborts, then inFlight returns to 0', async () => {
    agent.setBehavior({ kind: 'hang' });
    const controller = new AbortController();
    const pending = generate({ prompt: 'hi' }, { signal: controller.signal });
    await agent.waitForRequests(1);
    expect(agent.inFlight).toBe(1);

    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await idle();
    expect(agent.maxInFlight).toBe(1);
  });

  it('close() ends a hanging request instead of waiting for it', async () => {
    agent.setBehavior({ kind: 'hang' });
    const pending = generate({ prompt: 'hi' });
    await agent.waitForRequests(1);
    await agent.close();
    await expect(pending).rejects.toThrow('fetch failed');
    await idle();
  });

  it('consumes queued behaviours in order, then falls back to the default', async () => {
    agent.queueBehaviors(
      { kind: 'busy' },
      { kind: 'error', status: 500, message: 'boom' },
      { kind: 'ok', response: 'custom' },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await generate({ prompt: `p${i}` });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([503, 500, 200, 200]);
    expect(agent.requests.map((r) => r.prompt)).toEqual(['p0', 'p1', 'p2', 'p3']);

    agent.queueBehaviors({ kind: 'ok', response: 'custom answer' });
    await expect((await generate({ prompt: 'x' })).json()).resolves.toMatchObject({
      response: 'custom answer',
      eval_count: 2,
    });
    await expect((await generate({ prompt: 'x' })).json()).resolves.toMatchObject({ response: 'echo: x' });
  });

  it('counts 3 concurrent gated requests as maxInFlight 3, and answers them once the gate opens', async () => {
    const held = gate();
    agent.setBehavior({ kind: 'ok', gate: held.promise });
    const seen: string[] = [];
    const unsubscribe = agent.onRequest((r) => seen.push(r.prompt));
    const pending = Promise.all([1, 2, 3].map((i) => generate({ prompt: `req ${i}` })));
    await agent.waitForRequests(3);
    // All three arrived and none was answered (a finished response leaves inFlight): the gate holds them.
    expect(agent.inFlight).toBe(3);

    held.open();
    const responses = await pending;
    await expect(Promise.all(responses.map((r) => r.json()))).resolves.toEqual(
      [1, 2, 3].map((i) => expect.objectContaining({ response: `echo: req ${i}`, done: true }) as unknown),
    );
    unsubscribe();

    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(agent.maxInFlight).toBe(3);
    expect(seen.sort()).toEqual(['req 1', 'req 2', 'req 3']);
    await idle();

    agent.reset();
    expect(agent.requests).toHaveLength(0);
    expect(agent.maxInFlight).toBe(0);
  });

  it('holds an error behaviour until its gate settles, a rejected gate too', async () => {
    let refuse: (reason: Error) => void = () => undefined;
    const rejected = new Promise<void>((_resolve, reject) => (refuse = reject));
    agent.setBehavior({ kind: 'error', status: 500, message: 'boom', gate: rejected });
    const pending = generate({ prompt: 'hi' });
    await agent.waitForRequests(1);
    expect(agent.inFlight).toBe(1);

    refuse(new Error('the gate failed'));
    const res = await pending;
    expect(res.status).toBe(500);
    await expect(res.json()).resolves.toEqual({ error: 'boom' });
  });

  it('answers after delayMs at the earliest, and counts the delay in total_duration', async () => {
    // A real (small) delay: delayMs is what this test is about. Only lower bounds are asserted, which a slow
    // machine cannot break; the 1 ms is the granularity of libuv's millisecond timer clock.
    const delayMs = 50;
    agent.setBehavior({ kind: 'ok', delayMs });
    const started = performance.now();
    const res = await generate({ prompt: 'wait for it' });
    const elapsed = performance.now() - started;
    const body = (await res.json()) as Record<string, unknown>;

    expect(body).toMatchObject({ response: 'echo: wait for it', done: true });
    expect(elapsed).toBeGreaterThanOrEqual(delayMs - 1);
    expect(body.total_duration).toBeGreaterThanOrEqual(delayMs * 1_000_000);
  });

  it('waitForRequests rejects with a clear error on timeout', async () => {
    await expect(agent.waitForRequests(1, 50)).rejects.toThrow(/expected 1 generate requests within 50 ms, got 0/);
  });

  it('lists its models on /api/tags and counts the calls', async () => {
    await agent.close();
    agent = await startOllamaAgent({ models: ['llama3:8b', 'qwen2.5:14b'] });

    const res = await fetch(`${agent.url}/api/tags`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: Array<Record<string, unknown>> };
    expect(body.models.map((m) => m.name)).toEqual(['llama3:8b', 'qwen2.5:14b']);
    expect(body.models[1]).toMatchObject({
      model: 'qwen2.5:14b',
      modified_at: anyString,
      size: expect.any(Number) as unknown,
      digest: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      details: { family: 'qwen', parameter_size: '14B', quantization_level: 'Q4_0' },
    });

    agent.setTagsBehavior('error');
    const failed = await fetch(`${agent.url}/api/tags`);
    expect(failed.status).toBe(500);
    await expect(failed.json()).resolves.toEqual({ error: anyString });
    expect(agent.tagsCalls).toBe(2);
  });

  it('serves / and /api/version, and 404s unknown paths like Go', async () => {
    const root = await fetch(`${agent.url}/`);
    await expect(root.text()).resolves.toBe('Ollama is running');
    await expect((await fetch(`${agent.url}/api/version`)).json()).resolves.toEqual({ version: '0.6.0' });

    const unknown = await fetch(`${agent.url}/api/nope`);
    expect(unknown.status).toBe(404);
    await expect(unknown.text()).resolves.toBe('404 page not found');
  });

  it('streams NDJSON chunks ending with done:true when stream is not false', async () => {
    const res = await generate({ prompt: 'one two three', stream: undefined });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
    expect(lines.map((l) => l.response).join('')).toBe('echo: one two three');
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 4, prompt_eval_count: 3 });
  });
});

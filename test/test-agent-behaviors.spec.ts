import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startOllamaAgent } from './support/ollama-agent.js';
import type { AgentBehavior, OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';
import { openAiChunks, readNdjson, readServerSentEvents } from './support/test-agent/wire-readers.js';

/** jest's asymmetric matchers are typed `any`; as `unknown` they go into expected objects without unsafe assignments. */
const anyString = expect.any(String) as unknown;

type Wire = 'ollama' | 'openai';

/** Every inference route of an Ollama-mode agent, with a valid non-streaming request and its answer's key field. */
const ROUTES: { path: string; wire: Wire; body: Record<string, unknown>; answerField: string }[] = [
  {
    path: '/api/generate',
    wire: 'ollama',
    body: { model: 'llama3:8b', prompt: 'one two three', stream: false },
    answerField: 'response',
  },
  {
    path: '/api/chat',
    wire: 'ollama',
    body: { model: 'llama3:8b', messages: [{ role: 'user', content: 'one two three' }], stream: false },
    answerField: 'message',
  },
  {
    path: '/api/embed',
    wire: 'ollama',
    body: { model: 'llama3:8b', input: 'one two three' },
    answerField: 'embeddings',
  },
  {
    path: '/v1/chat/completions',
    wire: 'openai',
    body: { model: 'llama3:8b', messages: [{ role: 'user', content: 'one two three' }] },
    answerField: 'choices',
  },
  { path: '/v1/embeddings', wire: 'openai', body: { model: 'llama3:8b', input: 'one two three' }, answerField: 'data' },
];

/** The error body of each protocol. */
const errorBody = (
  wire: Wire,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
) => (wire === 'ollama' ? { error: message } : { error: { message, type, param, code } });

describe('test agent behaviours (real HTTP)', () => {
  let agent: OllamaAgent;

  const post = (path: string, body: unknown, init: RequestInit = {}): Promise<Response> =>
    fetch(`${agent.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      ...init,
    });

  /** Server-side bookkeeping (the socket's close) lags the client by a few ticks: wait for it, do not assume it. */
  const idle = () =>
    waitUntil(() => agent.inFlight === 0, { describe: 'inFlight to drop to 0', state: () => agent.inFlight });

  beforeEach(async () => {
    agent = await startOllamaAgent();
  });

  afterEach(async () => {
    await agent.close();
  });

  describe.each(ROUTES)('on $path', ({ path, wire, body, answerField }) => {
    const answer = async (behavior: AgentBehavior): Promise<Response> => {
      agent.setBehavior(behavior);
      return post(path, body);
    };
    const answerWith = (status: number, message: string) => answer({ kind: 'error', status, message });
    const notFound = (model: string) =>
      wire === 'ollama'
        ? { error: `model '${model}' not found` }
        : errorBody(
            wire,
            `The model \`${model}\` does not exist.`,
            'invalid_request_error',
            'model',
            'model_not_found',
          );

    it('answers ok with its own shape, and logs the request', async () => {
      const res = await post(path, body);
      expect(res.status).toBe(200);
      await expect(res.json()).resolves.toHaveProperty(answerField);
      expect(agent.requests).toEqual([expect.objectContaining({ path, model: 'llama3:8b', body }) as unknown]);
    });

    it('answers a configured error with the protocol’s body: a client error, a server error', async () => {
      const bad = await answerWith(400, 'bad option');
      expect(bad.status).toBe(400);
      await expect(bad.json()).resolves.toEqual(errorBody(wire, 'bad option', 'invalid_request_error'));

      const crashed = await answerWith(500, 'llama runner process has terminated');
      expect(crashed.status).toBe(500);
      expect(crashed.headers.get('content-type')).toBe('application/json; charset=utf-8');
      await expect(crashed.json()).resolves.toEqual(
        errorBody(wire, 'llama runner process has terminated', 'server_error'),
      );
    });

    it('answers busy with 503', async () => {
      const res = await answer({ kind: 'busy' });
      expect(res.status).toBe(503);
      const message =
        wire === 'ollama' ? 'server busy, please try again.  maximum pending requests exceeded' : 'server busy';
      await expect(res.json()).resolves.toEqual(errorBody(wire, message, 'server_error'));
    });

    it('answers model-not-found with 404, as for a model it does not serve', async () => {
      const forced = await answer({ kind: 'model-not-found' });
      expect(forced.status).toBe(404);
      await expect(forced.json()).resolves.toEqual(notFound('llama3:8b'));

      agent.setBehavior({ kind: 'ok' });
      const real = await post(path, { ...body, model: 'mistral:7b' });
      expect(real.status).toBe(404);
      await expect(real.json()).resolves.toEqual(notFound('mistral:7b'));
    });

    it('answers rate-limited with 429 and retry-after (1 s unless told)', async () => {
      const res = await answer({ kind: 'rate-limited', retryAfterS: 7 });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      const expected =
        wire === 'ollama'
          ? { error: 'rate limited' }
          : { error: { message: anyString, type: 'requests', param: null, code: 'rate_limit_exceeded' } };
      await expect(res.json()).resolves.toEqual(expected);

      const byDefault = await answer({ kind: 'rate-limited' });
      expect(byDefault.headers.get('retry-after')).toBe('1');
      await byDefault.arrayBuffer();
    });

    it('answers stream-error on a request that does not stream with a 500 carrying the message', async () => {
      const res = await answer({ kind: 'stream-error', afterChunks: 2, message: 'runner crashed' });
      expect(res.status).toBe(500);
      await expect(res.json()).resolves.toEqual(errorBody(wire, 'runner crashed', 'server_error'));
    });

    it('sends a 200 whose body is not JSON when malformed', async () => {
      const res = await answer({ kind: 'malformed' });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });

    it(`sends valid JSON without ${answerField} when wrong-shape`, async () => {
      const res = await answer({ kind: 'wrong-shape' });
      expect(res.status).toBe(200);
      const json = (await res.json()) as Record<string, unknown>;
      expect(typeof json).toBe('object');
      expect(json).not.toHaveProperty(answerField);
    });

    it('resets the connection when down', async () => {
      await expect(answer({ kind: 'down' })).rejects.toMatchObject({
        message: 'fetch failed',
        cause: { code: 'ECONNRESET' },
      });
      await idle();
    });

    it('keeps a hanging request in flight until the client aborts', async () => {
      agent.setBehavior({ kind: 'hang' });
      const controller = new AbortController();
      const pending = post(path, body, { signal: controller.signal });
      await agent.waitForRequests(1);
      expect(agent.inFlight).toBe(1);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await idle();
    });
  });

  describe('aborted requests', () => {
    const chat = { model: 'llama3:8b', messages: [{ role: 'user', content: 'one two three' }] };

    it('logs a request whose client went away, before or during the answer, in order', async () => {
      agent.setBehavior({ kind: 'hang' });
      const beforeAnswer = new AbortController();
      const hanging = post('/api/generate', { model: 'llama3:8b', prompt: 'hi' }, { signal: beforeAnswer.signal });
      await agent.waitForRequests(1);
      beforeAnswer.abort();
      await expect(hanging).rejects.toMatchObject({ name: 'AbortError' });
      await agent.waitForAborts(1);

      // A stream cut after its first piece: the pause before the second never ends on its own.
      agent.setBehavior({ kind: 'ok', chunkDelayMs: 60_000 });
      const midStream = new AbortController();
      const res = await post('/api/chat', chat, { signal: midStream.signal });
      const reader = res.body?.getReader();
      await expect(reader?.read()).resolves.toMatchObject({ done: false });
      midStream.abort();
      await agent.waitForAborts(2);

      expect(agent.aborted).toEqual([
        expect.objectContaining({ path: '/api/generate', operation: 'generate' }) as unknown,
        expect.objectContaining({ path: '/api/chat', operation: 'chat' }) as unknown,
      ]);
      agent.reset();
      expect(agent.aborted).toEqual([]);
    });

    it('does not log answered requests, nor connections the agent cut itself', async () => {
      const answered = await post('/v1/chat/completions', chat);
      await answered.json();
      const failed = await post('/api/chat', { ...chat, model: 'mistral:7b' });
      expect(failed.status).toBe(404);
      await failed.json();
      agent.setBehavior({ kind: 'down' });
      await expect(post('/api/chat', chat)).rejects.toMatchObject({ cause: { code: 'ECONNRESET' } });
      await idle();
      expect(agent.requests).toHaveLength(3);
      expect(agent.aborted).toEqual([]);
      await expect(agent.waitForAborts(1, 50)).rejects.toThrow(/expected 1 aborted requests within 50 ms, got 0/);
    });
  });

  describe('POST /api/show', () => {
    it("answers Ollama's shape for a served model, counted in showCalls and not logged as a request", async () => {
      const shown = await new Ollama({ host: agent.url }).show({ model: 'llama3:8b' });
      expect(shown).toMatchObject({
        modelfile: expect.stringContaining('FROM ') as unknown,
        parameters: anyString,
        template: anyString,
        details: {
          parent_model: '',
          format: 'gguf',
          family: 'llama',
          families: ['llama'],
          parameter_size: '8B',
          quantization_level: 'Q4_0',
        },
        model_info: expect.objectContaining({ 'general.architecture': 'llama' }) as unknown,
        capabilities: expect.arrayContaining(['completion']) as unknown,
        modified_at: anyString,
      });
      expect(agent.showCalls).toBe(1);
      expect(agent.requests).toEqual([]);
    });

    it('answers 404 {"error"} for a model not served, 400 without a model', async () => {
      const unknown = await post('/api/show', { model: 'mistral:7b' });
      expect(unknown.status).toBe(404);
      await expect(unknown.json()).resolves.toEqual({ error: "model 'mistral:7b' not found" });
      const nameless = await post('/api/show', {});
      expect(nameless.status).toBe(400);
      await expect(nameless.json()).resolves.toEqual({ error: 'model is required' });
      expect(agent.showCalls).toBe(2);
      agent.reset();
      expect(agent.showCalls).toBe(0);
    });

    it('is not a route of an OpenAI-protocol agent', async () => {
      const openAi = await startOllamaAgent({ protocol: 'openai' });
      try {
        const res = await fetch(`${openAi.url}/api/show`, { method: 'POST', body: '{"model":"llama3:8b"}' });
        expect(res.status).toBe(404);
        await res.arrayBuffer();
      } finally {
        await openAi.close();
      }
    });
  });

  it('takes queued behaviours in arrival order whatever the route', async () => {
    agent.queueBehaviors(
      { kind: 'busy' },
      { kind: 'rate-limited' },
      { kind: 'error', status: 502, message: 'bad gateway' },
    );
    const statuses: number[] = [];
    for (const { path, body } of ROUTES.slice(0, 4)) {
      const res = await post(path, body);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([503, 429, 502, 200]);
    expect(agent.requests.map((r) => r.operation)).toEqual(['generate', 'chat', 'embed', 'chat']);
  });

  describe('stream-error on a streaming request', () => {
    const message = 'llama runner process has terminated';

    it('Ollama: sends afterChunks NDJSON pieces under a 200, then an {"error"} line, and no done line', async () => {
      agent.setBehavior({ kind: 'stream-error', afterChunks: 2, message });
      const res = await post('/api/generate', { model: 'llama3:8b', prompt: 'one two three four' });
      expect(res.status).toBe(200);
      const lines = await readNdjson(res);
      expect(lines).toEqual([
        expect.objectContaining({ response: 'echo: ', done: false }) as unknown,
        expect.objectContaining({ response: 'one ', done: false }) as unknown,
        { error: message },
      ]);

      agent.setBehavior({ kind: 'stream-error', afterChunks: 0, message });
      const chat = await post('/api/chat', { model: 'llama3:8b', messages: [{ role: 'user', content: 'hi' }] });
      await expect(readNdjson(chat)).resolves.toEqual([{ error: message }]);
    });

    it("Ollama: Ollama's client throws the message after the pieces before it", async () => {
      agent.setBehavior({ kind: 'stream-error', afterChunks: 1, message });
      const ollama = new Ollama({ host: agent.url });
      const parts: string[] = [];
      const stream = await ollama.chat({
        model: 'llama3:8b',
        messages: [{ role: 'user', content: 'a b c' }],
        stream: true,
      });
      await expect(
        (async () => {
          for await (const part of stream) parts.push(part.message.content);
        })(),
      ).rejects.toThrow(message);
      expect(parts).toEqual(['echo: ']);
    });

    it('OpenAI: sends afterChunks chunks, then a data: {"error"} event, and no [DONE]', async () => {
      agent.setBehavior({ kind: 'stream-error', afterChunks: 2, message });
      const res = await post('/v1/chat/completions', {
        model: 'llama3:8b',
        messages: [{ role: 'user', content: 'one two three four' }],
        stream: true,
      });
      expect(res.status).toBe(200);
      const events = await readServerSentEvents(res);
      const { chunks, done } = openAiChunks(events);
      expect(done).toBe(false);
      expect(chunks).toEqual([
        expect.objectContaining({ object: 'chat.completion.chunk' }) as unknown,
        expect.objectContaining({ object: 'chat.completion.chunk' }) as unknown,
        { error: { message, type: 'server_error', param: null, code: null } },
      ]);
    });

    it("OpenAI: OpenAI's client throws an APIError with the message", async () => {
      agent.setBehavior({ kind: 'stream-error', afterChunks: 1, message });
      const openai = new OpenAI({ baseURL: `${agent.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const stream = await openai.chat.completions.create({
        model: 'llama3:8b',
        messages: [{ role: 'user', content: 'a b c' }],
        stream: true,
      });
      const parts: string[] = [];
      await expect(
        (async () => {
          for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? '');
        })(),
      ).rejects.toMatchObject({ message, type: 'server_error' });
      expect(parts).toEqual(['echo: ']);
    });
  });

  it('sends a truncated event to an OpenAI stream when malformed', async () => {
    agent.setBehavior({ kind: 'malformed' });
    const res = await post('/v1/chat/completions', {
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(res.status).toBe(200);
    const { data } = await readServerSentEvents(res);
    expect(data).toHaveLength(1);
    expect(() => JSON.parse(data[0] ?? '') as unknown).toThrow(SyntaxError);
  });

  it('pauses chunkDelayMs between streamed pieces, and counts the pauses in total_duration', async () => {
    // A real (small) delay: what this test is about. Only lower bounds are asserted, which a slow machine cannot
    // break; the 1 ms per pause is the granularity of libuv's millisecond timer clock.
    const chunkDelayMs = 20;
    agent.setBehavior({ kind: 'ok', chunkDelayMs });
    const started = performance.now();
    const lines = await readNdjson(
      await post('/api/chat', { model: 'llama3:8b', messages: [{ role: 'user', content: 'one two three' }] }),
    );
    const elapsed = performance.now() - started;
    expect(lines.slice(0, -1).map((l) => (l.message as { content: string }).content)).toEqual([
      'echo: ',
      'one ',
      'two ',
      'three',
    ]);
    const pauses = 3;
    expect(elapsed).toBeGreaterThanOrEqual(pauses * (chunkDelayMs - 1));
    expect(lines.at(-1)?.total_duration).toBeGreaterThanOrEqual(pauses * (chunkDelayMs - 1) * 1_000_000);

    const openAi = await post('/v1/chat/completions', {
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
    });
    const { chunks, done } = openAiChunks(await readServerSentEvents(openAi));
    expect(done).toBe(true);
    const text = chunks.map((c) => (c.choices as { delta: { content?: string } }[])[0]?.delta.content ?? '').join('');
    expect(text).toBe('echo: one two three');
  });
});

import { Ollama } from 'ollama';
import { startOllamaAgent } from './support/ollama-agent.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { readNdjson } from './support/test-agent/wire-readers.js';

/** jest's asymmetric matchers are typed `any`; as `unknown` they go into expected objects without unsafe assignments. */
const anyString = expect.any(String) as unknown;
const anyNumber = expect.any(Number) as unknown;
const anyArray = expect.any(Array) as unknown;
const anyObject = expect.any(Object) as unknown;

const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'] as const;

/** Ollama's final chunk: positive integer durations whose parts add up to the total. */
function expectConsistentStats(body: Record<string, unknown>): void {
  for (const key of DURATIONS) {
    expect(Number.isInteger(body[key])).toBe(true);
    expect(body[key]).toBeGreaterThan(0);
  }
  expect(Number(body.load_duration) + Number(body.prompt_eval_duration) + Number(body.eval_duration)).toBe(
    body.total_duration,
  );
}

describe('ollama test agent: /api/chat, /api/embed, /api/ps (real HTTP)', () => {
  let agent: OllamaAgent;

  const post = (path: string, body: Record<string, unknown>): Promise<Response> =>
    fetch(`${agent.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const chat = (body: Record<string, unknown>): Promise<Response> =>
    post('/api/chat', { model: 'llama3:8b', stream: false, ...body });
  const chatJson = async (body: Record<string, unknown>): Promise<Record<string, unknown>> =>
    (await (await chat(body)).json()) as Record<string, unknown>;
  const embed = (body: Record<string, unknown>): Promise<Response> =>
    post('/api/embed', { model: 'nomic-embed-text', ...body });
  const user = (content: string) => [{ role: 'user', content }];

  beforeEach(async () => {
    agent = await startOllamaAgent({ models: ['llama3:8b', 'nomic-embed-text:latest'] });
  });

  afterEach(async () => {
    await agent.close();
  });

  it("answers a non-streaming chat with Ollama's message, stats and the last user message echoed", async () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'why is the sky blue' },
    ];
    const res = await chat({ messages, options: { temperature: 0 } });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      model: 'llama3:8b',
      created_at: anyString,
      message: { role: 'assistant', content: 'echo: why is the sky blue' },
      done: true,
      done_reason: 'stop',
      total_duration: anyNumber,
      load_duration: anyNumber,
      prompt_eval_count: 11, // every message's words
      prompt_eval_duration: anyNumber,
      eval_count: 6,
      eval_duration: anyNumber,
    });
    expect(new Date(String(body.created_at)).toISOString()).toBe(body.created_at);
    expectConsistentStats(body);
    expect(agent.requests).toEqual([
      expect.objectContaining({
        path: '/api/chat',
        operation: 'chat',
        model: 'llama3:8b',
        prompt: '',
        messages,
        options: { temperature: 0 },
        stream: false,
      }) as unknown,
    ]);
  });

  it('streams a chat by default: NDJSON pieces of message.content, then a done line with stats', async () => {
    const res = await post('/api/chat', { model: 'llama3:8b', messages: user('one two three') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = await readNdjson(res);

    const pieces = lines.slice(0, -1);
    expect(pieces.length).toBe(4);
    for (const line of pieces) {
      expect(line).toEqual({ model: 'llama3:8b', created_at: anyString, message: anyObject, done: false });
    }
    const messages = pieces.map((l) => l.message as { role: string; content: string });
    expect(messages.every((m) => m.role === 'assistant')).toBe(true);
    expect(messages.map((m) => m.content).join('')).toBe('echo: one two three');
    const last = lines.at(-1) ?? {};
    expect(last).toMatchObject({
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 3,
      eval_count: 4,
    });
    expectConsistentStats(last);
    expect(agent.requests[0]).not.toHaveProperty('stream');
  });

  it("answers behaviour tool calls in Ollama's shape (arguments an object), whole and streamed", async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: { city: 'Paris', days: 3 } },
      { name: 'get_time', arguments: { zone: 'CET' } },
    ];
    agent.setBehavior({ kind: 'ok', toolCalls });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const expected = toolCalls.map((c) => ({ function: c }));

    const whole = await chatJson({ messages: user('weather?'), tools });
    expect(whole.message).toEqual({ role: 'assistant', content: '', tool_calls: expected });
    expect(whole).toMatchObject({ done: true, done_reason: 'stop', eval_count: 8 });

    const lines = await readNdjson(await chat({ messages: user('weather?'), tools, stream: true }));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ message: { role: 'assistant', content: '', tool_calls: expected }, done: false });
    expect(lines[1]).toMatchObject({ message: { role: 'assistant', content: '' }, done: true });
    expect(lines[1]?.message).not.toHaveProperty('tool_calls');
  });

  it('answers a JSON schema format with a minimal instance, "json" with an echo object', async () => {
    const format = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        score: { type: 'number' },
        ok: { type: 'boolean' },
        mood: { type: 'string', enum: ['happy', 'sad'] },
        version: { const: 2 },
        tags: { type: 'array', items: { type: 'string' } },
        points: { type: 'array', minItems: 1, items: { $ref: '#/$defs/point' } },
        nickname: { type: ['null', 'string'] },
        address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'integer' } } },
      },
      required: ['name'],
      $defs: { point: { type: 'object', properties: { x: { type: 'number' } } } },
    };
    const structured = await chatJson({ messages: user('describe me'), format });
    expect(JSON.parse(String((structured.message as { content: string }).content))).toEqual({
      name: 'x',
      age: 1,
      score: 1,
      ok: true,
      mood: 'happy',
      version: 2,
      tags: [],
      points: [{ x: 1 }],
      nickname: 'x',
      address: { city: 'x', zip: 1 },
    });

    const json = await chatJson({ messages: user('describe me'), format: 'json' });
    expect(JSON.parse(String((json.message as { content: string }).content))).toEqual({ echo: 'describe me' });

    const generated = (await (
      await post('/api/generate', { model: 'llama3:8b', prompt: 'p', format: 'json', stream: false })
    ).json()) as Record<string, unknown>;
    expect(JSON.parse(String(generated.response))).toEqual({ echo: 'p' });

    agent.setBehavior({ kind: 'ok', response: 'not json at all' });
    const fixed = await chatJson({ messages: user('describe me'), format });
    expect(fixed.message).toEqual({ role: 'assistant', content: 'not json at all' });
  });

  it('loads, or unloads with keep_alive 0, when a chat has no messages', async () => {
    await expect(chatJson({ messages: [] })).resolves.toMatchObject({
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'load',
    });
    expect(agent.loadedModels).toEqual(['llama3:8b']);
    await expect(chatJson({ keep_alive: 0 })).resolves.toMatchObject({ done_reason: 'unload' });
    expect(agent.loadedModels).toEqual([]);
  });

  it('rejects a chat without a model, or with messages that are not a list, with 400', async () => {
    const noModel = await chat({ model: undefined, messages: user('hi') });
    expect(noModel.status).toBe(400);
    await expect(noModel.json()).resolves.toEqual({ error: 'model is required' });

    const badMessages = await chat({ messages: 'hi' });
    expect(badMessages.status).toBe(400);
    await expect(badMessages.json()).resolves.toEqual({ error: anyString });

    const unknown = await chat({ model: 'mistral:7b', messages: user('hi') });
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toEqual({ error: "model 'mistral:7b' not found" });
  });

  it('embeds each input as a deterministic unit vector of embeddingDimensions numbers', async () => {
    const res = await embed({ input: ['the sky is blue', 'grass is green'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { embeddings: number[][] } & Record<string, unknown>;
    expect(body).toEqual({
      model: 'nomic-embed-text',
      embeddings: [anyArray, anyArray],
      total_duration: anyNumber,
      load_duration: anyNumber,
      prompt_eval_count: 7,
    });
    const [sky = [], grass = []] = body.embeddings;
    for (const vector of [sky, grass]) {
      expect(vector).toHaveLength(8);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 10);
    }
    expect(sky).not.toEqual(grass);

    // One string is one input; the same text and model give the same vector, ':latest' or not.
    const again = (await (await embed({ model: 'nomic-embed-text:latest', input: 'the sky is blue' })).json()) as {
      embeddings: number[][];
    };
    expect(again.embeddings).toEqual([sky]);
    // Another model, another vector.
    const other = (await (await embed({ model: 'llama3:8b', input: 'the sky is blue' })).json()) as {
      embeddings: number[][];
    };
    expect(other.embeddings[0]).not.toEqual(sky);
    expect(agent.requests.map((r) => [r.path, r.operation])).toEqual([
      ['/api/embed', 'embed'],
      ['/api/embed', 'embed'],
      ['/api/embed', 'embed'],
    ]);
  });

  it('embeds with the configured number of dimensions', async () => {
    await agent.close();
    agent = await startOllamaAgent({ models: ['nomic-embed-text'], embeddingDimensions: 768 });
    const body = (await (await embed({ input: 'hello' })).json()) as { embeddings: number[][] };
    expect(body.embeddings[0]).toHaveLength(768);
    expect(Math.hypot(...(body.embeddings[0] ?? []))).toBeCloseTo(1, 10);
  });

  it('rejects a missing, empty or non-text embed input with 400', async () => {
    for (const input of [undefined, '', [], [1, 2]]) {
      const res = await embed({ input });
      expect(res.status).toBe(400);
      await expect(res.json()).resolves.toEqual({ error: anyString });
    }
  });

  it('lists the loaded models on /api/ps, with a keep-alive expiry, and counts the calls', async () => {
    await expect((await fetch(`${agent.url}/api/ps`)).json()).resolves.toEqual({ models: [] });
    await chat({ messages: user('hi') });
    const before = Date.now();
    const res = await fetch(`${agent.url}/api/ps`);
    expect(res.status).toBe(200);
    const { models } = (await res.json()) as { models: Record<string, unknown>[] };
    expect(models).toEqual([
      {
        name: 'llama3:8b',
        model: 'llama3:8b',
        size: anyNumber,
        digest: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
        details: expect.objectContaining({ family: 'llama', parameter_size: '8B' }) as unknown,
        expires_at: anyString,
        size_vram: anyNumber,
      },
    ]);
    // Ollama's default keep_alive: five minutes from now.
    const expires = Date.parse(String(models[0]?.expires_at));
    expect(expires).toBeGreaterThanOrEqual(before + 5 * 60_000);
    expect(agent.psCalls).toBe(2);
    expect(agent.tagsCalls).toBe(0);
  });

  it("talks with Ollama's own client: chat, streamed chat, embed, list and ps", async () => {
    const ollama = new Ollama({ host: agent.url });
    const answer = await ollama.chat({ model: 'llama3:8b', messages: user('hello there') });
    expect(answer.message).toEqual({ role: 'assistant', content: 'echo: hello there' });

    let streamed = '';
    let done = false;
    for await (const part of await ollama.chat({ model: 'llama3:8b', messages: user('a b c'), stream: true })) {
      streamed += part.message.content;
      done = part.done;
    }
    expect(streamed).toBe('echo: a b c');
    expect(done).toBe(true);

    agent.setBehavior({ kind: 'ok', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
    const tool = await ollama.chat({ model: 'llama3:8b', messages: user('look it up') });
    expect(tool.message.tool_calls).toEqual([{ function: { name: 'lookup', arguments: { q: 'x' } } }]);

    const embedded = await ollama.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(embedded.embeddings).toHaveLength(2);
    await expect(ollama.list()).resolves.toMatchObject({
      models: [{ name: 'llama3:8b' }, { name: 'nomic-embed-text:latest' }],
    });
    const ps = await ollama.ps();
    expect(ps.models.map((m) => m.name)).toEqual(['nomic-embed-text:latest', 'llama3:8b']);
  });
});

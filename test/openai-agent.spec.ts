import OpenAI from 'openai';
import { startOllamaAgent } from './support/ollama-agent.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { openAiChunks, readServerSentEvents } from './support/test-agent/wire-readers.js';

/** jest's asymmetric matchers are typed `any`; as `unknown` they go into expected objects without unsafe assignments. */
const anyString = expect.any(String) as unknown;
const anyNumber = expect.any(Number) as unknown;
const anyArray = expect.any(Array) as unknown;

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
}

describe('openai test agent: /v1 routes of a vLLM-like server (real HTTP)', () => {
  let agent: OllamaAgent;

  const post = (path: string, body: Record<string, unknown>): Promise<Response> =>
    fetch(`${agent.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const complete = (body: Record<string, unknown>): Promise<Response> =>
    post('/v1/chat/completions', { model: 'Qwen/Qwen2.5-7B-Instruct', ...body });
  const completeJson = async (body: Record<string, unknown>) =>
    (await (await complete(body)).json()) as {
      choices: { message: { role: string; content: string | null; tool_calls?: unknown[] }; finish_reason: string }[];
    } & Record<string, unknown>;
  /** The streamed chunks, checked to end with `data: [DONE]`. */
  const streamChunks = async (body: Record<string, unknown>): Promise<Chunk[]> => {
    const res = await complete({ ...body, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await readServerSentEvents(res);
    expect(events.comments).toEqual(['ping']);
    const { chunks, done } = openAiChunks(events);
    expect(done).toBe(true);
    expect(events.data.at(-1)).toBe('[DONE]');
    return chunks as unknown as Chunk[];
  };
  const user = (content: unknown) => [{ role: 'user', content }];
  const client = (apiKey = 'none') => new OpenAI({ baseURL: `${agent.url}/v1`, apiKey, maxRetries: 0 });

  beforeEach(async () => {
    agent = await startOllamaAgent({ protocol: 'openai', models: ['Qwen/Qwen2.5-7B-Instruct', 'bge-m3'] });
  });

  afterEach(async () => {
    await agent.close();
  });

  it('answers a chat completion in OpenAI’s shape, echoing the last user message', async () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'why is the sky blue' },
    ];
    const res = await complete({ messages, temperature: 0, max_tokens: 50 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-/) as unknown,
      object: 'chat.completion',
      created: anyNumber,
      model: 'Qwen/Qwen2.5-7B-Instruct',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'echo: why is the sky blue' },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 6, total_tokens: 13 },
    });
    expect(Number.isInteger(body.created)).toBe(true);
    expect(agent.protocol).toBe('openai');
    expect(agent.requests).toEqual([
      expect.objectContaining({
        path: '/v1/chat/completions',
        operation: 'chat',
        model: 'Qwen/Qwen2.5-7B-Instruct',
        prompt: '',
        messages,
      }) as unknown,
    ]);
  });

  it('echoes the text parts of a content array, ignoring images', async () => {
    const content = [
      { type: 'text', text: 'what is' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'text', text: 'in this picture' },
    ];
    const body = await completeJson({ messages: user(content) });
    expect(body.choices[0]?.message.content).toBe('echo: what is in this picture');
  });

  it('streams server-sent chunks: a ping, the role first, one word each, the finish, the usage, [DONE]', async () => {
    const chunks = await streamChunks({
      messages: user('one two three'),
      stream_options: { include_usage: true },
    });
    const [first] = chunks;
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        id: first?.id,
        object: 'chat.completion.chunk',
        model: 'Qwen/Qwen2.5-7B-Instruct',
      });
    }
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    const deltas = withChoices.map((c) => c.choices[0]?.delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: 'echo: ' },
      { content: 'one ' },
      { content: 'two ' },
      { content: 'three' },
      {},
    ]);
    expect(withChoices.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'stop']);
    // include_usage: every chunk carries usage, null but in the last one, which has no choices.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });

    const plain = await streamChunks({ messages: user('hi') });
    expect(plain.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
  });

  it('answers tool calls with ids and JSON-string arguments, whole and streamed in pieces', async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: { city: 'Paris', days: 3 } },
      { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
    ];
    agent.setBehavior({ kind: 'ok', toolCalls });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

    const whole = await completeJson({ messages: user('weather?'), tools, tool_choice: 'auto' });
    expect(whole.choices[0]?.finish_reason).toBe('tool_calls');
    const message = whole.choices[0]?.message;
    expect(message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: toolCalls.map((c) => ({
        id: expect.stringMatching(/^call_/) as unknown,
        type: 'function',
        function: { name: c.name, arguments: anyString },
      })),
    });
    const sent = (message?.tool_calls ?? []) as { id: string; function: { arguments: string } }[];
    expect(sent.map((c) => JSON.parse(c.function.arguments) as unknown)).toEqual(toolCalls.map((c) => c.arguments));
    expect(new Set(sent.map((c) => c.id)).size).toBe(2);

    const chunks = await streamChunks({ messages: user('weather?'), tools });
    const calls = chunks.flatMap(
      (c) =>
        (c.choices[0]?.delta.tool_calls ?? []) as { index: number; id?: string; function: Record<string, string> }[],
    );
    // Each call starts with its id, type and name (arguments ''), then its arguments come in several pieces.
    const starts = calls.filter((c) => c.id !== undefined);
    expect(starts).toEqual(
      toolCalls.map((c, index) => ({
        index,
        id: expect.stringMatching(/^call_/) as unknown,
        type: 'function',
        function: { name: c.name, arguments: '' },
      })),
    );
    const argumentsOf = (index: number) =>
      calls
        .filter((c) => c.index === index)
        .map((c) => c.function.arguments)
        .join('');
    expect(calls.filter((c) => c.index === 0).length).toBeGreaterThan(2);
    expect(toolCalls.map((_c, index) => JSON.parse(argumentsOf(index)) as unknown)).toEqual(
      toolCalls.map((c) => c.arguments),
    );
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: null });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers response_format json_schema with a schema instance and json_object with an echo object', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } } };
    const structured = await completeJson({
      messages: user('weather'),
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
    });
    expect(JSON.parse(String(structured.choices[0]?.message.content))).toEqual({ city: 'x', temp: 1 });

    const json = await completeJson({ messages: user('weather'), response_format: { type: 'json_object' } });
    expect(JSON.parse(String(json.choices[0]?.message.content))).toEqual({ echo: 'weather' });
  });

  it('embeds inputs as float lists, or base64 float32 when asked', async () => {
    const res = await post('/v1/embeddings', {
      model: 'bge-m3',
      input: ['hello world', 'bye'],
      encoding_format: 'float',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { embedding: number[] }[] } & Record<string, unknown>;
    expect(body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: anyArray },
        { object: 'embedding', index: 1, embedding: anyArray },
      ],
      model: 'bge-m3',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    const hello = body.data[0]?.embedding ?? [];
    expect(hello).toHaveLength(8);
    expect(Math.hypot(...hello)).toBeCloseTo(1, 10);
    expect(agent.requests[0]).toMatchObject({ path: '/v1/embeddings', operation: 'embed', model: 'bge-m3' });

    const encoded = (await (
      await post('/v1/embeddings', { model: 'bge-m3', input: 'hello world', encoding_format: 'base64' })
    ).json()) as { data: { embedding: string }[] };
    const bytes = Buffer.from(encoded.data[0]?.embedding ?? '', 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toEqual(Array.from(new Float32Array(hello)));

    const bad = await post('/v1/embeddings', { model: 'bge-m3', input: [] });
    expect(bad.status).toBe(400);
    await expect(bad.json()).resolves.toEqual({
      error: { message: anyString, type: 'invalid_request_error', param: 'input', code: null },
    });
  });

  it('lists the served models on /v1/models and counts the calls', async () => {
    const res = await fetch(`${agent.url}/v1/models`);
    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toEqual({
      object: 'list',
      data: ['Qwen/Qwen2.5-7B-Instruct', 'bge-m3'].map((id) => ({
        id,
        object: 'model',
        created: anyNumber,
        owned_by: 'library',
      })),
    });
    expect(agent.modelsCalls).toBe(1);
  });

  it('serves /health, and only the /v1 routes: Ollama paths are 404 with an OpenAI error body', async () => {
    const health = await fetch(`${agent.url}/health`);
    expect(health.status).toBe(200);
    await expect(health.json()).resolves.toEqual({ status: 'ok' });

    for (const [method, path] of [
      ['GET', '/api/tags'],
      ['POST', '/api/generate'],
      ['GET', '/'],
      ['GET', '/v1/chat/completions'],
    ] as const) {
      const res = await fetch(`${agent.url}${path}`, { method });
      expect(res.status).toBe(404);
      await expect(res.json()).resolves.toEqual({
        error: {
          message: `Unknown request URL: ${method} ${path}.`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
    }
    expect(agent.requests).toHaveLength(0);
    expect(agent.tagsCalls).toBe(0);
  });

  it('wants model names exactly as served, and validates the request with OpenAI error bodies', async () => {
    const unknown = await complete({ model: 'Qwen2.5-7B-Instruct', messages: user('hi') });
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toEqual({
      error: {
        message: 'The model `Qwen2.5-7B-Instruct` does not exist.',
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });

    const noModel = await complete({ model: undefined, messages: user('hi') });
    expect(noModel.status).toBe(400);
    await expect(noModel.json()).resolves.toMatchObject({ error: { type: 'invalid_request_error' } });

    const noMessages = await complete({ messages: [] });
    expect(noMessages.status).toBe(400);
    await expect(noMessages.json()).resolves.toMatchObject({ error: { param: 'messages' } });

    const notJson = await fetch(`${agent.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    await expect(notJson.json()).resolves.toMatchObject({
      error: { message: anyString, type: 'invalid_request_error' },
    });
  });

  it("talks with OpenAI's own client: completion, stream, tool-call stream, embeddings, models", async () => {
    const openai = client();
    const model = 'Qwen/Qwen2.5-7B-Instruct';
    const answer = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(answer.choices[0]?.message.content).toBe('echo: hello there');

    let streamed = '';
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'a b c' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: unknown;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(streamed).toBe('echo: a b c');
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });

    agent.setBehavior({ kind: 'ok', toolCalls: [{ name: 'lookup', arguments: { q: 'hive' } }] });
    const runner = openai.chat.completions.stream({ model, messages: [{ role: 'user', content: 'look' }] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/) as unknown,
        type: 'function',
        function: { name: 'lookup', arguments: '{"q":"hive"}' },
      },
    ]);

    // The client asks for base64 unless told otherwise, and decodes it.
    const embedded = await openai.embeddings.create({ model: 'bge-m3', input: 'hello world' });
    const float = await openai.embeddings.create({ model: 'bge-m3', input: 'hello world', encoding_format: 'float' });
    expect(embedded.data[0]?.embedding).toHaveLength(8);
    expect(embedded.data[0]?.embedding).toEqual(Array.from(new Float32Array(float.data[0]?.embedding ?? [])));

    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    expect(models).toEqual([model, 'bge-m3']);
  });
});

describe('ollama test agent: the OpenAI-compatible /v1 routes of an Ollama server (real HTTP)', () => {
  let agent: OllamaAgent;

  beforeEach(async () => {
    agent = await startOllamaAgent({ models: ['llama3:latest', 'nomic-embed-text:latest'] });
  });

  afterEach(async () => {
    await agent.close();
  });

  it('serves /v1 beside /api, completing a missing tag as Ollama does', async () => {
    const openai = new OpenAI({ baseURL: `${agent.url}/v1`, apiKey: 'ollama', maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'llama3',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer).toMatchObject({ model: 'llama3', choices: [{ message: { content: 'echo: hi' } }] });
    const embedded = await openai.embeddings.create({ model: 'nomic-embed-text', input: ['a'] });
    expect(embedded.data).toHaveLength(1);
    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    expect(models).toEqual(['llama3:latest', 'nomic-embed-text:latest']);

    expect(agent.protocol).toBe('ollama');
    expect(agent.modelsCalls).toBe(1);
    expect(agent.loadedModels).toEqual(['nomic-embed-text:latest', 'llama3:latest']);
    expect(agent.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings']);
    // Ollama's own routes are there too; /health is not.
    await expect((await fetch(`${agent.url}/api/tags`)).json()).resolves.toMatchObject({ models: anyArray });
    const health = await fetch(`${agent.url}/health`);
    expect(health.status).toBe(404);
    await expect(health.text()).resolves.toBe('404 page not found');
  });
});

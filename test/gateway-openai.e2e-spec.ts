import { Ajv } from 'ajv';
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Completion } from 'openai/resources/completions';
import { suiteFixture } from './support/hive-fixture.js';
import type { AgentProtocol, AgentToolCall, OllamaAgent } from './support/ollama-agent.js';
import { words } from './support/test-agent/canned-answers.js';
import { embedding } from './support/test-agent/embeddings.js';
import { createKey } from './support/test-keys.js';

const OLLAMA_MODEL = 'llama3:8b';
const OPENAI_MODEL = 'acme/chat-7b';
/** Served by both agents: listed once. */
const SHARED_MODEL = 'shared-embed:1b';
/** Served only by a disabled agent: not listed. */
const HIDDEN_MODEL = 'hidden:1b';
/** The test agent's embedding length (its default). */
const DIMENSIONS = 8;

const WEATHER_TOOL: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city now',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'] } },
      required: ['city'],
    },
  },
};

/** What the model "decides": two calls at once, so the order and the indexes matter. */
const CALLS: AgentToolCall[] = [
  { name: 'get_weather', arguments: { city: 'Lyon' } },
  { name: 'get_weather', arguments: { city: 'Nice', unit: 'C' } },
];

const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string', minLength: 2 }, population: { type: 'integer', minimum: 1000 } },
  required: ['city', 'population'],
  additionalProperties: false,
};

const MESSAGES: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the hive' },
];

/** The test agent counts words as tokens: the prompt is every message's text, the completion the answer's. */
function usageOf(prompt: readonly string[], answer: string) {
  const promptTokens = Math.max(words(prompt.join(' ')), 1);
  const completionTokens = words(answer);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

const textsOf = (messages: readonly ChatCompletionMessageParam[]): string[] =>
  messages.map((m) => (typeof m.content === 'string' ? m.content : ''));

/** The error a call failed with; a success, or a failure that is not the API's, fails the test. */
async function rejection(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('the call succeeded; an API error was expected');
}

/** Hive's headers on a gateway answer. */
function hiveHeaders(response: Response) {
  return {
    taskId: response.headers.get('x-hive-task-id') ?? '',
    agent: response.headers.get('x-hive-agent'),
    queueMs: response.headers.get('x-hive-queue-ms'),
  };
}

/** A streamed chat, read to its end: the content pieces in order, the tool calls joined by index, the usage. */
interface ReadChatStream {
  chunks: ChatCompletionChunk[];
  contents: string[];
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReasons: string[];
}

async function readChatStream(stream: AsyncIterable<ChatCompletionChunk>): Promise<ReadChatStream> {
  const read: ReadChatStream = { chunks: [], contents: [], toolCalls: [], finishReasons: [] };
  for await (const chunk of stream) {
    read.chunks.push(chunk);
    for (const choice of chunk.choices) {
      if (typeof choice.delta.content === 'string' && choice.delta.content !== '') {
        read.contents.push(choice.delta.content);
      }
      for (const call of choice.delta.tool_calls ?? []) {
        const joined = (read.toolCalls[call.index] ??= { id: '', name: '', arguments: '' });
        joined.id += call.id ?? '';
        joined.name += call.function?.name ?? '';
        joined.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason !== null) read.finishReasons.push(choice.finish_reason);
    }
  }
  return read;
}

async function readCompletionStream(stream: AsyncIterable<Completion>) {
  const chunks: Completion[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const texts = chunks.flatMap((c) => c.choices.map((choice) => choice.text)).filter((text) => text !== '');
  const finishReasons = chunks.flatMap((c) => c.choices.flatMap((choice) => choice.finish_reason ?? []));
  return { chunks, texts, finishReasons };
}

/** One registered agent of each kind, each serving a model of its own. */
interface Served {
  id: string;
  model: string;
  agent: OllamaAgent;
}

const KINDS: AgentProtocol[] = ['ollama', 'openai'];

/** The official openai npm client against an in-process Hive, on Ollama-kind and OpenAI-kind agents alike. */
describe('gateway: the openai client on /v1 (in-process Hive, real PostgreSQL, real agent servers)', () => {
  const world = suiteFixture();
  const served = {} as Record<AgentProtocol, Served>;
  let hiddenAgent: OllamaAgent;
  let client: OpenAI;
  let viewerKey: string;

  const clientWith = (apiKey: string): OpenAI =>
    new OpenAI({ baseURL: `${world().hive.url}/v1`, apiKey, maxRetries: 0 });

  beforeAll(async () => {
    const { api, agents, hive } = world();
    const ollama = await agents.start({ models: [OLLAMA_MODEL, SHARED_MODEL] });
    const openai = await agents.start({ protocol: 'openai', models: [OPENAI_MODEL, SHARED_MODEL] });
    hiddenAgent = await agents.start({ models: [HIDDEN_MODEL] });
    await api.registerAgent({ id: 'ollama-agent', endpoint: ollama.url, specialty: 'chat', model: OLLAMA_MODEL });
    await api.registerAgent({
      id: 'openai-agent',
      kind: 'openai',
      endpoint: openai.url,
      specialty: 'chat',
      model: OPENAI_MODEL,
    });
    await api.registerAgent({
      id: 'disabled-agent',
      endpoint: hiddenAgent.url,
      specialty: 'chat',
      model: HIDDEN_MODEL,
      enabled: false,
    });
    // Routing by model needs the served lists, which the first probes find.
    await api.waitForModels('ollama-agent', [OLLAMA_MODEL, SHARED_MODEL]);
    await api.waitForModels('openai-agent', [OPENAI_MODEL, SHARED_MODEL]);
    served.ollama = { id: 'ollama-agent', model: OLLAMA_MODEL, agent: ollama };
    served.openai = { id: 'openai-agent', model: OPENAI_MODEL, agent: openai };
    // An operator key is all a gateway client needs.
    client = clientWith((await createKey(hive.url, 'operator', 'gateway client')).key);
    viewerKey = (await createKey(hive.url, 'viewer', 'gateway viewer')).key;
  });

  // Each test starts from agents that answer normally and have seen nothing.
  beforeEach(() => {
    for (const { agent } of Object.values(served)) agent.reset();
    hiddenAgent.reset();
  });

  describe.each(KINDS)('on an %s-kind agent', (kind) => {
    const target = (): Served => served[kind];
    /** The one request the agent received, checked to be of the operation the gateway call maps to. */
    const onlyRequest = (operation: 'chat' | 'generate' | 'embed') => {
      const { requests } = target().agent;
      expect(requests.map((r) => r.operation)).toEqual([operation]);
      return requests[0];
    };

    it('chat: the answer, its usage, finish_reason and an id naming the task; the agent got the conversation', async () => {
      const { model } = target();
      const { data, response } = await client.chat.completions.create({ model, messages: MESSAGES }).withResponse();

      const answer = 'echo: Say hello to the hive';
      const { taskId } = hiveHeaders(response);
      expect(data).toMatchObject({
        id: `chatcmpl-${taskId}`,
        object: 'chat.completion',
        created: expect.any(Number) as unknown,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: null }],
        usage: usageOf(textsOf(MESSAGES), answer),
      });
      expect(Math.abs(data.created - Date.now() / 1000)).toBeLessThan(300); // seconds, not milliseconds
      const request = onlyRequest('chat');
      expect(request?.path).toBe(kind === 'ollama' ? '/api/chat' : '/v1/chat/completions');
      expect(request?.messages).toEqual(MESSAGES);
    });

    it('chat: the headers name the task, the agent and the queue wait; the task is an openai-gateway chat', async () => {
      const { model, id } = target();
      const { response } = await client.chat.completions
        .create({ model, messages: MESSAGES }, { headers: { 'x-hive-priority': '5' } })
        .withResponse();

      const headers = hiveHeaders(response);
      expect(headers).toEqual({
        taskId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        agent: id,
        queueMs: expect.stringMatching(/^\d+$/) as unknown,
      });
      const task = await world().api.waitForTask(headers.taskId, 'completed');
      expect(task).toMatchObject({
        id: headers.taskId,
        gateway: 'openai',
        operation: 'chat',
        model,
        priority: 5,
        assigned_agent: id,
        attempts: 1,
        error: null,
      });
      expect(task.result).toMatchObject({ message: { role: 'assistant', content: 'echo: Say hello to the hive' } });
    });

    it('chat: sampling parameters reach the agent in its own dialect', async () => {
      const { model, agent } = target();
      await client.chat.completions.create({
        model,
        messages: MESSAGES,
        temperature: 0.25,
        top_p: 0.9,
        max_tokens: 64,
        seed: 7,
        stop: ['\n\n'],
        presence_penalty: 0.5,
        frequency_penalty: 0.125,
      });

      expect(agent.requests).toHaveLength(1);
      const sampling = { temperature: 0.25, top_p: 0.9, seed: 7, stop: ['\n\n'], presence_penalty: 0.5 };
      const penalties = { frequency_penalty: 0.125 };
      // Ollama takes them as options (max_tokens is its num_predict); an OpenAI server as fields of the body.
      if (kind === 'ollama') {
        expect(agent.requests[0]?.options).toEqual({ ...sampling, ...penalties, num_predict: 64 });
      } else {
        expect(agent.requests[0]?.body).toMatchObject({ ...sampling, ...penalties, max_tokens: 64 });
      }
    });

    it('streaming chat: the pieces come in order and join into the answer, each chunk naming the task', async () => {
      const { model, agent } = target();
      const answer = 'Hello hive, the bees are busy today.';
      agent.setBehavior({ kind: 'ok', response: answer });
      const { data: stream, response } = await client.chat.completions
        .create({ model, messages: MESSAGES, stream: true })
        .withResponse();
      const read = await readChatStream(stream);

      const { taskId, agent: agentHeader } = hiveHeaders(response);
      expect(agentHeader).toBe(target().id);
      expect(read.contents.join('')).toBe(answer);
      expect(read.contents.length).toBeGreaterThan(1);
      expect(read.chunks[0]?.choices[0]?.delta.role).toBe('assistant');
      expect(read.finishReasons).toEqual(['stop']);
      // The finish reason comes last, after every piece.
      expect(read.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
      for (const chunk of read.chunks) {
        expect({ id: chunk.id, object: chunk.object, model: chunk.model }).toEqual({
          id: `chatcmpl-${taskId}`,
          object: 'chat.completion.chunk',
          model,
        });
      }
      // Without stream_options.include_usage, no chunk carries usage.
      expect(read.chunks.filter((c) => (c.usage ?? null) !== null)).toEqual([]);
      await expect(world().api.waitForTask(taskId, 'completed')).resolves.toMatchObject({
        gateway: 'openai',
        operation: 'chat',
        model,
      });
    });

    it('streaming chat: pieces reach the client while the agent is still answering', async () => {
      const { model, agent } = target();
      // The pauses between the agent's pieces make a forwarded piece arrive long before the agent's last one.
      agent.setBehavior({ kind: 'ok', response: 'one two three four', chunkDelayMs: 250 });
      const stream = await client.chat.completions.create({ model, messages: MESSAGES, stream: true });

      let agentAnsweringAtFirstPiece: boolean | undefined;
      const pieces: string[] = [];
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content ?? '';
        if (content === '') continue;
        agentAnsweringAtFirstPiece ??= agent.inFlight === 1;
        pieces.push(content);
      }
      expect({ agentAnsweringAtFirstPiece, answer: pieces.join('') }).toEqual({
        agentAnsweringAtFirstPiece: true,
        answer: 'one two three four',
      });
    });

    it('streaming chat with stream_options.include_usage: a last chunk with no choices carries the usage', async () => {
      const { model, agent } = target();
      const answer = 'Counting every token here';
      agent.setBehavior({ kind: 'ok', response: answer });
      const stream = await client.chat.completions.create({
        model,
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
      const read = await readChatStream(stream);

      expect(read.contents.join('')).toBe(answer);
      const last = read.chunks.at(-1);
      expect({ choices: last?.choices, usage: last?.usage }).toEqual({
        choices: [],
        usage: usageOf(textsOf(MESSAGES), answer),
      });
      // Only that one carries it; the one before finishes the answer.
      expect(read.chunks.slice(0, -1).filter((c) => (c.usage ?? null) !== null)).toEqual([]);
      expect(read.chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    });

    it('tools: the agent gets them, and its calls come back with ids and JSON-string arguments', async () => {
      const { model, agent } = target();
      agent.setBehavior({ kind: 'ok', toolCalls: CALLS });
      const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lyon and Nice?' }];
      const completion = await client.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });

      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      const calls = choice?.message.tool_calls ?? [];
      expect(calls).toEqual(
        CALLS.map((call) => ({
          id: expect.any(String) as unknown,
          type: 'function',
          function: { name: call.name, arguments: expect.any(String) as unknown },
        })),
      );
      const parsed = calls.map((c) => (c.type === 'function' ? (JSON.parse(c.function.arguments) as unknown) : c));
      expect(parsed).toEqual(CALLS.map((c) => c.arguments));
      const ids = calls.map((c) => c.id);
      expect(new Set(ids).size).toBe(CALLS.length);
      expect(ids.every((callId) => callId !== '')).toBe(true);
      expect(onlyRequest('chat')?.body).toMatchObject({ tools: [WEATHER_TOOL] });
    });

    it('streaming tools: the calls arrive as indexed deltas whose joined arguments are the JSON of the calls', async () => {
      const { model, agent } = target();
      agent.setBehavior({ kind: 'ok', toolCalls: CALLS });
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Lyon and Nice?' }],
        tools: [WEATHER_TOOL],
        stream: true,
      });
      const read = await readChatStream(stream);

      expect(read.finishReasons).toEqual(['tool_calls']);
      expect(read.toolCalls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) as unknown }))).toEqual(
        CALLS.map((c) => ({ name: c.name, arguments: c.arguments })),
      );
      const ids = read.toolCalls.map((c) => c.id);
      expect(new Set(ids).size).toBe(CALLS.length);
      expect(ids.every((callId) => callId !== '')).toBe(true);
      expect(read.contents).toEqual([]);
    });

    it('response_format json_object: the agent is asked for JSON in its dialect, and the answer parses', async () => {
      const { model, agent } = target();
      const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Reply in JSON' }];
      const completion = await client.chat.completions.create({
        model,
        messages,
        response_format: { type: 'json_object' },
      });

      expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ echo: 'Reply in JSON' });
      const body = agent.requests[0]?.body as Record<string, unknown> | undefined;
      if (kind === 'ollama') expect(body?.format).toBe('json');
      else expect(body?.response_format).toEqual({ type: 'json_object' });
    });

    it('response_format json_schema: the agent gets the schema in its dialect, and the answer follows it', async () => {
      const { model, agent } = target();
      const completion = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Name a big city and its population.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'city', schema: CITY_SCHEMA } },
      });

      const answer: unknown = JSON.parse(completion.choices[0]?.message.content ?? '');
      const validate = new Ajv().compile(CITY_SCHEMA);
      expect({ answer, valid: validate(answer), errors: validate.errors ?? null }).toEqual({
        answer,
        valid: true,
        errors: null,
      });
      const body = agent.requests[0]?.body as Record<string, unknown> | undefined;
      if (kind === 'ollama') {
        expect(body?.format).toEqual(CITY_SCHEMA);
      } else {
        expect(body?.response_format).toEqual({
          type: 'json_schema',
          json_schema: expect.objectContaining({ schema: CITY_SCHEMA }) as unknown,
        });
      }
    });

    it('completions: the text, its usage and finish_reason; a generate task on the agent', async () => {
      const { model, agent, id } = target();
      const text = 'there lived a queen bee';
      agent.setBehavior({ kind: 'ok', response: text });
      const prompt = 'Once upon a time';
      const { data, response } = await client.completions.create({ model, prompt }).withResponse();

      expect(data).toMatchObject({
        object: 'text_completion',
        model,
        choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
        usage: usageOf([prompt], text),
      });
      expect(data.choices).toHaveLength(1);
      const { taskId, agent: agentHeader } = hiveHeaders(response);
      expect(agentHeader).toBe(id);
      await expect(world().api.waitForTask(taskId, 'completed')).resolves.toMatchObject({
        gateway: 'openai',
        operation: 'generate',
        model,
      });
      // An OpenAI server runs a generate as a chat of one user message.
      const request = onlyRequest(kind === 'ollama' ? 'generate' : 'chat');
      if (kind === 'ollama') expect(request?.prompt).toBe(prompt);
      else expect(request?.messages).toEqual([{ role: 'user', content: prompt }]);
    });

    it('streaming completions: the pieces join into the text, then the usage when asked for', async () => {
      const { model, agent } = target();
      const text = 'there lived a queen bee';
      agent.setBehavior({ kind: 'ok', response: text });
      const prompt = 'Once upon a time';
      const stream = await client.completions.create({
        model,
        prompt,
        stream: true,
        stream_options: { include_usage: true },
      });
      const read = await readCompletionStream(stream);

      expect(read.texts.join('')).toBe(text);
      expect(read.texts.length).toBeGreaterThan(1);
      expect(read.finishReasons).toEqual(['stop']);
      for (const chunk of read.chunks) expect(chunk.object).toBe('text_completion');
      expect(read.chunks.at(-1)?.usage).toEqual(usageOf([prompt], text));
    });

    it('embeddings: the client’s default base64 comes back decoded, one float32 vector per input, in order', async () => {
      const { model } = target();
      const input = ['alpha beta', 'gamma'];
      const { data, response } = await client.embeddings.create({ model, input }).withResponse();

      expect(data).toMatchObject({
        object: 'list',
        model,
        data: input.map((text, index) => ({
          object: 'embedding',
          index,
          // base64 carries float32s: the agent's vector as float32 can represent it, exactly.
          embedding: embedding(model, text, DIMENSIONS).map(Math.fround),
        })),
        usage: { prompt_tokens: 3, total_tokens: 3 },
      });
      await expect(world().api.waitForTask(hiveHeaders(response).taskId, 'completed')).resolves.toMatchObject({
        gateway: 'openai',
        operation: 'embed',
        model,
      });
      // The client decodes quietly, and takes arrays too: on the wire they must be base64 text.
      const raw = await client.embeddings.create({ model, input }).asResponse();
      const wire = (await raw.json()) as { data: { embedding: unknown }[] };
      expect(wire.data.map((d) => typeof d.embedding)).toEqual(['string', 'string']);
    });

    it('embeddings with encoding_format float: plain numbers', async () => {
      const { model } = target();
      const result = await client.embeddings.create({ model, input: 'alpha beta', encoding_format: 'float' });

      expect(result.data).toHaveLength(1);
      const expected = embedding(model, 'alpha beta', DIMENSIONS);
      expect(result.data[0]?.embedding).toEqual(expected.map((v) => expect.closeTo(v, 6) as unknown));
      expect(result.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    });
  });

  it('models.list: each model an enabled agent serves, once', async () => {
    const page = await client.models.list();

    expect(page.data.map((m) => m.id).sort()).toEqual([OLLAMA_MODEL, OPENAI_MODEL, SHARED_MODEL].sort());
    for (const entry of page.data) {
      expect(entry).toMatchObject({
        id: entry.id,
        object: 'model',
        created: expect.any(Number) as unknown,
        owned_by: 'hive',
      });
    }
  });

  it('models.retrieve: a served model (a name with a slash too); an unknown one is NotFoundError', async () => {
    await expect(client.models.retrieve(OLLAMA_MODEL)).resolves.toMatchObject({
      id: OLLAMA_MODEL,
      object: 'model',
      owned_by: 'hive',
    });
    // The client sends acme%2Fchat-7b.
    await expect(client.models.retrieve(OPENAI_MODEL)).resolves.toMatchObject({ id: OPENAI_MODEL, object: 'model' });

    const error = await rejection(client.models.retrieve('no-such-model:1b'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect({ status: error.status, code: error.code }).toEqual({ status: 404, code: 'model_not_found' });
    // A disabled agent's model is not served.
    await expect(rejection(client.models.retrieve(HIDDEN_MODEL))).resolves.toBeInstanceOf(NotFoundError);
  });

  it('a chat for a model no agent serves: NotFoundError, 404 model_not_found, and no agent is called', async () => {
    const error = await rejection(client.chat.completions.create({ model: 'no-such-model:1b', messages: MESSAGES }));

    expect(error).toBeInstanceOf(NotFoundError);
    expect({ status: error.status, type: error.type, code: error.code }).toEqual({
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
    });
    expect(Object.values(served).flatMap((s) => s.agent.requests)).toEqual([]);
  });

  it('an unknown key: AuthenticationError (401 invalid_api_key), on chat and on the model list', async () => {
    const stranger = clientWith('hive_not_a_key_anyone_made_0123456789abcdef');

    const chat = await rejection(stranger.chat.completions.create({ model: OLLAMA_MODEL, messages: MESSAGES }));
    expect(chat).toBeInstanceOf(AuthenticationError);
    expect({ status: chat.status, code: chat.code }).toEqual({ status: 401, code: 'invalid_api_key' });
    await expect(rejection(stranger.models.list())).resolves.toBeInstanceOf(AuthenticationError);
    expect(served.ollama.agent.requests).toEqual([]);
  });

  it('a viewer key: PermissionDeniedError (403 permission_error), and no agent is called', async () => {
    const viewer = clientWith(viewerKey);

    const error = await rejection(viewer.chat.completions.create({ model: OLLAMA_MODEL, messages: MESSAGES }));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect({ status: error.status, type: error.type }).toEqual({ status: 403, type: 'permission_error' });
    expect(served.ollama.agent.requests).toEqual([]);
  });

  /** Requests the gateway refuses before any task exists; `param` is the field the error names. */
  const invalidRequests: [string, string, () => Promise<unknown>][] = [
    [
      'a chat asking for n: 2',
      'n',
      () => client.chat.completions.create({ model: OLLAMA_MODEL, messages: MESSAGES, n: 2 }),
    ],
    [
      'a chat without messages',
      'messages',
      () => client.chat.completions.create({ model: OLLAMA_MODEL } as ChatCompletionCreateParamsNonStreaming),
    ],
    [
      'a completion with a suffix',
      'suffix',
      () => client.completions.create({ model: OLLAMA_MODEL, prompt: 'def f(', suffix: '\n    return x' }),
    ],
    [
      'embeddings with dimensions',
      'dimensions',
      () => client.embeddings.create({ model: OLLAMA_MODEL, input: 'alpha', dimensions: 4 }),
    ],
  ];

  it.each(invalidRequests)('%s: BadRequestError naming %s, and no agent is called', async (_what, param, call) => {
    const error = await rejection(call());

    expect(error).toBeInstanceOf(BadRequestError);
    expect({ status: error.status, type: error.type, param: error.param }).toEqual({
      status: 400,
      type: 'invalid_request_error',
      param,
    });
    expect(served.ollama.agent.requests).toEqual([]);
  });
});

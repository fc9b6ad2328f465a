import { Ollama, type ChatResponse, type GenerateResponse, type Message, type Tool } from 'ollama';
import { suiteFixture } from './support/hive-fixture.js';
import type { AgentProtocol, AgentRequestRecord, AgentToolCall, OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { pieces } from './support/test-agent/canned-answers.js';
import { embedding } from './support/test-agent/embeddings.js';
import { schemaInstance } from './support/test-agent/schema-instance.js';
import { showAnswer } from './support/test-agent/show-route.js';
import { readNdjson } from './support/test-agent/wire-readers.js';
import { createKey } from './support/test-keys.js';

const KINDS: AgentProtocol[] = ['ollama', 'openai'];
/** Each agent's own model, so that a call names the kind of agent it runs on. */
const MODELS: Record<AgentProtocol, string> = { ollama: 'llama3:8b', openai: 'acme/chat-7b' };
/** Served by both agents: listed once. */
const SHARED_MODEL = 'shared:1b';
const AGENT_IDS: Record<AgentProtocol, string> = { ollama: 'gw-ollama', openai: 'gw-openai' };
/** The test agent's embedding length (its default). */
const DIMENSIONS = 8;

/** The test agent echoes the last user message, one word (and its space) per streamed piece; words are tokens. */
const PROMPT = 'one two three';
const ECHO = `echo: ${PROMPT}`;
const MESSAGES: Message[] = [{ role: 'user', content: PROMPT }];
const COUNTS = { prompt_eval_count: 3, eval_count: 4 };

const WEATHER_TOOL: Tool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city now',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
/** Two calls at once, so that their order matters. */
const CALLS: AgentToolCall[] = [
  { name: 'get_weather', arguments: { city: 'Lyon' } },
  { name: 'get_weather', arguments: { city: 'Nice', unit: 'C' } },
];

const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, population: { type: 'integer', minimum: 1000 } },
  required: ['city', 'population'],
};

/** Reads a stream to its end. */
async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** A streamed answer's shape: pieces with done false, then one last part with done true. */
function expectPiecesThenDone(parts: readonly { done: boolean }[]): void {
  expect(parts.length).toBeGreaterThan(1);
  expect(parts.slice(0, -1).map((p) => p.done)).toEqual(parts.slice(0, -1).map(() => false));
  expect(parts.at(-1)?.done).toBe(true);
}

/** Vectors equal to the agent's (a JSON round trip may not keep the last bit of a double). */
const vectorsOf = (model: string, texts: readonly string[]): unknown =>
  texts.map((text) => embedding(model, text, DIMENSIONS).map((x) => expect.closeTo(x, 12) as unknown));

/** The output format as the agent received it, in its own protocol's field. */
const formatSent = (kind: AgentProtocol, request: AgentRequestRecord | undefined): unknown => {
  const body = request?.body as Record<string, unknown> | undefined;
  return kind === 'ollama' ? body?.format : body?.response_format;
};

/** What an Ollama-dialect error carries: the status, and the `error` text as the client's message. */
const responseError = (status: number, message?: string): unknown =>
  expect.objectContaining({ name: 'ResponseError', status_code: status, ...(message ? { error: message } : {}) });

describe('gateway, Ollama dialect: the ollama npm client against Hive (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const agents = {} as Record<AgentProtocol, OllamaAgent>;
  let operatorKey = '';
  let viewerKey = '';

  /** The client as a user sets it up; `null`: without a key. */
  const client = (key: string | null = operatorKey): Ollama =>
    new Ollama({ host: world().hive.url, headers: key === null ? {} : { Authorization: `Bearer ${key}` } });

  /** A raw call, to see Hive's headers (the client hides them). */
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${world().hive.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${operatorKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const { api, hive } = world();
    for (const kind of KINDS) {
      const models = [MODELS[kind], SHARED_MODEL];
      agents[kind] = await world().agents.start({ protocol: kind, models });
      await api.registerAgent({
        id: AGENT_IDS[kind],
        kind,
        endpoint: agents[kind].url,
        specialty: `gw-${kind}`,
        model: MODELS[kind],
      });
      await api.waitForModels(AGENT_IDS[kind], models);
    }
    operatorKey = (await createKey(hive.url, 'operator')).key;
    viewerKey = (await createKey(hive.url, 'viewer')).key;
  });

  afterEach(() => {
    for (const kind of KINDS) agents[kind].reset();
  });

  describe.each(KINDS)('on an %s-kind agent', (kind) => {
    const model = MODELS[kind];

    it('chat, not streamed: the whole answer in one object, with its counts', async () => {
      const answer: ChatResponse = await client().chat({ model, messages: MESSAGES });
      expect(answer).toMatchObject({
        model,
        message: { role: 'assistant', content: ECHO },
        done: true,
        done_reason: 'stop',
        ...COUNTS,
      });
      expect(answer.total_duration).toBeGreaterThan(0);
      expect(agents[kind].requests).toEqual([
        expect.objectContaining({ operation: 'chat', model, messages: MESSAGES }) as unknown,
      ]);
    });

    it('chat, streamed: the pieces in order, then a last part done with eval_count', async () => {
      const parts = await collect(await client().chat({ model, messages: MESSAGES, stream: true }));
      expectPiecesThenDone(parts);
      expect(parts.map((p) => p.message.content).filter((c) => c !== '')).toEqual(pieces(ECHO));
      expect(parts.every((p) => p.model === model && p.message.role === 'assistant')).toBe(true);
      expect(parts.at(-1)).toMatchObject({ done_reason: 'stop', ...COUNTS });
    });

    it('generate, streamed and not', async () => {
      const parts: GenerateResponse[] = await collect(await client().generate({ model, prompt: PROMPT, stream: true }));
      expectPiecesThenDone(parts);
      expect(parts.map((p) => p.response).filter((r) => r !== '')).toEqual(pieces(ECHO));
      expect(parts.at(-1)).toMatchObject({ model, done_reason: 'stop', eval_count: COUNTS.eval_count });

      const whole = await client().generate({ model, prompt: PROMPT });
      expect(whole).toMatchObject({ model, response: ECHO, done: true, done_reason: 'stop', ...COUNTS });
      expect(agents[kind].requests.map((r) => r.operation)).toEqual([
        kind === 'ollama' ? 'generate' : 'chat', // an OpenAI server has no generate: a chat of one message
        kind === 'ollama' ? 'generate' : 'chat',
      ]);
    });

    const expectedCalls = CALLS.map(({ name, arguments: args }) => ({ name, arguments: args }));
    const toolsSent = () => agents[kind].requests.map((r) => (r.body as { tools?: unknown }).tools);

    it('tools: the agent gets them, and the calls come back with arguments as objects', async () => {
      agents[kind].queueBehaviors({ kind: 'ok', toolCalls: CALLS });
      const answer = await client().chat({ model, messages: MESSAGES, tools: [WEATHER_TOOL] });
      expect(answer.message.tool_calls?.map((c) => c.function)).toEqual(expectedCalls);
      expect(toolsSent()).toEqual([[WEATHER_TOOL]]);
    });

    it('tools, streamed: each call comes whole, once, as Ollama streams them, before the last part (done)', async () => {
      agents[kind].queueBehaviors({ kind: 'ok', toolCalls: CALLS });
      const stream = await client().chat({ model, messages: MESSAGES, tools: [WEATHER_TOOL], stream: true });
      const parts = await collect(stream);
      expect(toolsSent()).toEqual([[WEATHER_TOOL]]);
      expect(parts.at(-1)?.done).toBe(true);
      const calls = parts.flatMap((p) => p.message.tool_calls ?? []);
      expect(calls.map((c) => c.function)).toEqual(expectedCalls);
    });

    it('format: "json" and a schema reach the agent in its protocol, and shape the answer', async () => {
      const json = await client().chat({ model, messages: MESSAGES, format: 'json' });
      expect(JSON.parse(json.message.content)).toEqual({ echo: PROMPT });
      const shaped = await client().chat({ model, messages: MESSAGES, format: CITY_SCHEMA });
      expect(JSON.parse(shaped.message.content)).toEqual(schemaInstance(CITY_SCHEMA));

      const [asJson, asSchema] = agents[kind].requests;
      if (kind === 'ollama') {
        expect([formatSent(kind, asJson), formatSent(kind, asSchema)]).toEqual(['json', CITY_SCHEMA]);
      } else {
        expect(formatSent(kind, asJson)).toEqual({ type: 'json_object' });
        expect(formatSent(kind, asSchema)).toMatchObject({ type: 'json_schema', json_schema: { schema: CITY_SCHEMA } });
      }
    });

    it('embed: one input, and several in order', async () => {
      const one = await client().embed({ model, input: 'one two' });
      expect(one).toMatchObject({ model, embeddings: vectorsOf(model, ['one two']), prompt_eval_count: 2 });

      const texts = ['alpha', 'beta gamma', 'delta'];
      const several = await client().embed({ model, input: texts });
      expect(several).toMatchObject({ model, embeddings: vectorsOf(model, texts), prompt_eval_count: 4 });
      expect(agents[kind].requests.map((r) => (r.body as { input?: unknown }).input)).toEqual(['one two', texts]);
    });
  });

  it('list (/api/tags): every served model once, from both kinds of agent', async () => {
    const { models } = await client().list();
    expect(models.map((m) => m.name).sort()).toEqual([MODELS.ollama, MODELS.openai, SHARED_MODEL].sort());
    for (const entry of models) {
      expect(entry).toMatchObject({ model: entry.name, size: expect.any(Number) as unknown, details: {} });
      expect(typeof entry.digest).toBe('string');
      expect(Number.isNaN(Date.parse(String(entry.modified_at)))).toBe(false);
    }
  });

  it('ps (/api/ps): a model loaded on an Ollama agent, once a probe saw it', async () => {
    const model = MODELS.ollama;
    await client().chat({ model, messages: MESSAGES }); // loads it on the agent
    const { models } = await pollUntil(
      () => client().ps(),
      (ps) => ps.models.some((m) => m.name === model),
      { describe: `/api/ps to list ${model}` },
    );
    expect(models.find((m) => m.name === model)).toMatchObject({
      model,
      size: expect.any(Number) as unknown,
      digest: expect.any(String) as unknown,
      details: expect.any(Object) as unknown,
      size_vram: expect.any(Number) as unknown,
    });
  });

  describe('show (/api/show)', () => {
    it('is forwarded to an Ollama agent serving the model, and answers as it did', async () => {
      await expect(client().show({ model: MODELS.ollama })).resolves.toEqual(showAnswer(MODELS.ollama));
      // Served by both kinds: only the Ollama one can answer.
      await expect(client().show({ model: SHARED_MODEL })).resolves.toEqual(showAnswer(SHARED_MODEL));
      expect(agents.ollama.showCalls).toBe(2);
    });

    it('a model only OpenAI agents serve: what Hive knows of it, without asking an agent', async () => {
      const shown = await client().show({ model: MODELS.openai });
      expect(shown).toMatchObject({ modelfile: '', template: '', details: {}, capabilities: [] });
      expect([agents.ollama.showCalls, agents.openai.requests.length]).toEqual([0, 0]);
    });

    it('404 for a model no agent serves', async () => {
      await expect(client().show({ model: 'nope:1b' })).rejects.toEqual(responseError(404));
      expect(agents.ollama.showCalls).toBe(0);
    });
  });

  it("version (/api/version): Hive's version, and no key needed", async () => {
    const root = await world().api.expect<{ version: string }>(200, 'GET', '/');
    await expect(client(null).version()).resolves.toEqual({ version: root.version });
  });

  describe('refusals', () => {
    it('an unknown model: 404 model "x" not found…, and no agent is called', async () => {
      const call = client().chat({ model: 'nope:1b', messages: MESSAGES });
      await expect(call).rejects.toEqual(responseError(404, 'model "nope:1b" not found: no agent serves it'));
      expect([...agents.ollama.requests, ...agents.openai.requests]).toEqual([]);
    });

    it('no key or an unknown key: 401; a viewer key: 403', async () => {
      const chat = (key: string | null) => client(key).chat({ model: MODELS.ollama, messages: MESSAGES });
      await expect(chat(null)).rejects.toEqual(responseError(401));
      await expect(chat('hive_not_a_key_0123456789abcdefghijklmnop')).rejects.toEqual(responseError(401));
      await expect(client('hive_not_a_key').list()).rejects.toEqual(responseError(401));
      await expect(chat(viewerKey)).rejects.toEqual(responseError(403));
      expect(agents.ollama.requests).toEqual([]);
    });

    it('errors are {"error": "…"}, never Hive’s usual shape', async () => {
      const res = await post('/api/chat', { model: 'nope:1b', messages: MESSAGES, stream: false });
      expect(res.status).toBe(404);
      await expect(res.json()).resolves.toEqual({ error: 'model "nope:1b" not found: no agent serves it' });
    });
  });

  describe('each call is a Hive task', () => {
    it('not streamed: the answer names its task and agent, and the task shows gateway "ollama"', async () => {
      const res = await post('/api/chat', { model: MODELS.ollama, messages: MESSAGES, stream: false });
      expect(res.status).toBe(200);
      await expect(res.json()).resolves.toMatchObject({ message: { content: ECHO }, done: true });
      const taskId = res.headers.get('x-hive-task-id') ?? '';
      expect(res.headers.get('x-hive-agent')).toBe(AGENT_IDS.ollama);
      expect(res.headers.get('x-hive-queue-ms')).toMatch(/^\d+$/);

      const task = await world().api.waitForTask(taskId, 'completed');
      expect(task).toMatchObject({
        gateway: 'ollama',
        operation: 'chat',
        model: MODELS.ollama,
        priority: 3,
        assigned_agent: AGENT_IDS.ollama,
        attempts: 1,
      });
      const { tasks } = await world().api.listTasks({ model: MODELS.ollama, limit: 1000 });
      expect(tasks.map((t) => t.id)).toContain(taskId);
    });

    it('streamed by default (no `stream`): NDJSON, with the same headers, on an OpenAI-kind agent too', async () => {
      const res = await post('/api/generate', { model: MODELS.openai, prompt: PROMPT });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(res.headers.get('x-hive-agent')).toBe(AGENT_IDS.openai);
      const taskId = res.headers.get('x-hive-task-id') ?? '';
      const lines = await readNdjson(res);
      expect(lines.map((l) => l.response).join('')).toBe(ECHO);
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });

      await expect(world().api.waitForTask(taskId, 'completed')).resolves.toMatchObject({
        gateway: 'ollama',
        operation: 'generate',
        model: MODELS.openai,
        assigned_agent: AGENT_IDS.openai,
        stream: true,
      });
    });
  });
});

import { Ajv } from 'ajv';
import type { components } from './generated/hive-api.js';
import type { NewTask, Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import type { AgentBehavior, AgentProtocol, AgentToolCall, OllamaAgent } from './support/ollama-agent.js';
import { toolCallTokens } from './support/test-agent/canned-answers.js';

type ChatInput = components['schemas']['ChatInput'];

const WEATHER_TOOL = {
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
} as const;

/** A conversation in Ollama's shape in which the model already called the tool once and got its answer. */
const CONVERSATION: ChatInput['messages'] = [
  { role: 'system', content: 'You are a weather bot.' },
  { role: 'user', content: 'What is the weather in Paris?' },
  { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
  { role: 'tool', content: '{"temp_c": 21}', tool_name: 'get_weather' },
  { role: 'user', content: 'And in Lyon and Nice?' },
];

/** What the model answers to it: two calls at once. */
const CALLS: AgentToolCall[] = [
  { name: 'get_weather', arguments: { city: 'Lyon' } },
  { name: 'get_weather', arguments: { city: 'Nice', unit: 'C' } },
];

const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string', minLength: 2 }, population: { type: 'integer', minimum: 1000 } },
  required: ['city', 'population'],
};

/** The test agent counts words as tokens, for prompts (every message's text) and answers alike. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;
const promptTokens = (messages: readonly { content?: unknown }[]): number =>
  messages.reduce((sum, m) => sum + (typeof m.content === 'string' ? words(m.content) : 0), 0);

/** Chat (tools, JSON schemas, OpenAI-shaped input) and generate, on agents of both protocols, through the REST API. */
describe('operations: chat and generate on Ollama and OpenAI agents (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture();
  let serial = 0;

  /** An agent of `kind` serving one model of its own, so that a task naming that model can only run there. */
  async function agentServing(kind: AgentProtocol, behavior?: AgentBehavior) {
    const n = ++serial;
    const model = kind === 'ollama' ? `weather${n}:8b` : `acme/weather-${n}`;
    const agent = await world().agents.start({ protocol: kind, models: [model], ...(behavior ? { behavior } : {}) });
    const id = `${kind}-${n}`;
    await world().api.registerAgent({ id, kind, endpoint: agent.url, specialty: 'chat', model });
    return { agent, id, model };
  }

  /** Submits the task, waits for its end, and returns it with the body its agent received. */
  async function run(agent: OllamaAgent, task: NewTask) {
    const { api } = world();
    const submitted = await api.submitTask(task);
    const done = await api.waitForTask(submitted.id, (t) => t.status !== 'pending' && t.status !== 'in_progress');
    expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: null });
    expect(agent.requests).toHaveLength(1);
    return { task: done, request: agent.requests[0] };
  }

  /**
   * The stored answer to CONVERSATION: CALLS with ids and object arguments, whatever the agent's protocol; only
   * Ollama reports how long generating took.
   */
  function expectToolCallsResult(task: Task, model: string, kind: AgentProtocol): void {
    expect(task.result).toEqual({
      message: {
        role: 'assistant',
        content: '',
        tool_calls: CALLS.map((call) => ({
          id: expect.stringMatching(/^call_\w+$/) as unknown,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      },
      model,
      done_reason: 'tool_calls',
      prompt_eval_count: promptTokens(CONVERSATION),
      eval_count: toolCallTokens(CALLS),
      total_duration: expect.any(Number) as unknown,
      ...(kind === 'ollama' ? { eval_duration: expect.any(Number) as unknown } : {}),
    });
    const ids = task.result?.message?.tool_calls?.map((c) => c.id) ?? [];
    expect(new Set(ids).size).toBe(CALLS.length);
  }

  it('Ollama: a chat with tools gets the tools and the conversation (object arguments, tool_name), and stores the calls', async () => {
    const { agent, model } = await agentServing('ollama', { kind: 'ok', toolCalls: CALLS });
    const { task, request } = await run(agent, {
      model,
      operation: 'chat',
      input: { messages: CONVERSATION, tools: [WEATHER_TOOL] },
    });

    expect(request).toMatchObject({ path: '/api/chat', operation: 'chat' });
    expect(request?.body).toEqual({ model, messages: CONVERSATION, tools: [WEATHER_TOOL], stream: false });
    expectToolCallsResult(task, model, 'ollama');
    expect(task.result?.eval_duration).toBeGreaterThan(0);
  });

  it('OpenAI: a chat with tools gets the calls as JSON text with ids and the tool answer linked by tool_call_id', async () => {
    const { agent, model } = await agentServing('openai', { kind: 'ok', toolCalls: CALLS });
    const { task, request } = await run(agent, {
      model,
      operation: 'chat',
      input: { messages: CONVERSATION, tools: [WEATHER_TOOL] },
    });

    expect(request).toMatchObject({ path: '/v1/chat/completions', operation: 'chat' });
    const body = request?.body as { messages: { tool_calls?: { id: string }[] }[] };
    const callId = body.messages[2]?.tool_calls?.[0]?.id;
    expect(callId).toEqual(expect.any(String));
    expect(body).toEqual({
      model,
      messages: [
        CONVERSATION[0],
        CONVERSATION[1],
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: callId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', content: '{"temp_c": 21}', tool_call_id: callId },
        CONVERSATION[4],
      ],
      tools: [WEATHER_TOOL],
    });
    // The id Hive sent is the one it stored for the assistant's call when the task was submitted.
    const stored = task.input as ChatInput;
    expect(stored.messages[2]?.tool_calls?.[0]?.id).toBe(callId);
    expectToolCallsResult(task, model, 'openai');
  });

  it.each<AgentProtocol>(['ollama', 'openai'])(
    '%s: a chat whose format is a JSON schema gets the schema, and its answer parses as JSON that follows it',
    async (kind) => {
      const { agent, model } = await agentServing(kind);
      const messages: ChatInput['messages'] = [{ role: 'user', content: 'Name a big city and its population.' }];
      const { task, request } = await run(agent, {
        model,
        operation: 'chat',
        input: { messages, format: CITY_SCHEMA, options: { temperature: 0 } },
      });

      // OpenAI's temperature is a field of its own; a schema is a json_schema response_format named "response".
      const sent =
        kind === 'ollama'
          ? { format: CITY_SCHEMA, options: { temperature: 0 }, stream: false }
          : {
              response_format: { type: 'json_schema', json_schema: { name: 'response', schema: CITY_SCHEMA } },
              temperature: 0,
            };
      expect(request?.body).toEqual({ model, messages, ...sent });
      const content = task.result?.message?.content ?? '';
      const answer: unknown = JSON.parse(content);
      const validate = new Ajv().compile(CITY_SCHEMA);
      expect({ answer, valid: validate(answer), errors: validate.errors ?? null }).toEqual({
        answer,
        valid: true,
        errors: null,
      });
      expect(task.result).toMatchObject({
        message: { role: 'assistant', content },
        model,
        done_reason: 'stop',
        prompt_eval_count: promptTokens(messages),
        eval_count: words(content),
      });
      expect(task.result?.message).not.toHaveProperty('tool_calls');
    },
  );

  it.each<AgentProtocol>(['ollama', 'openai'])(
    '%s: a chat whose format is "json" asks for JSON in its protocol, and its answer parses',
    async (kind) => {
      const { agent, model } = await agentServing(kind);
      const messages: ChatInput['messages'] = [{ role: 'user', content: 'Reply in JSON.' }];
      const { task, request } = await run(agent, { model, operation: 'chat', input: { messages, format: 'json' } });

      const format =
        kind === 'ollama' ? { format: 'json', stream: false } : { response_format: { type: 'json_object' } };
      expect(request?.body).toEqual({ model, messages, ...format });
      expect(JSON.parse(task.result?.message?.content ?? '')).toEqual(expect.any(Object));
    },
  );

  it('a tool-calling loop across protocols: calls an Ollama agent made are answered to an OpenAI agent, linked in order', async () => {
    const first = await agentServing('ollama', { kind: 'ok', toolCalls: CALLS });
    const turn1 = await run(first.agent, { model: first.model, operation: 'chat', input: { messages: CONVERSATION } });
    const assistant = turn1.task.result?.message;
    if (assistant === undefined) throw new Error(`no message in ${JSON.stringify(turn1.task.result)}`);
    const ids = (assistant.tool_calls ?? []).map((c) => c.id);
    expect(ids).toHaveLength(2);

    // The next turn: the assistant's message as Hive stored it, then one answer per call, linked by the tool's name
    // alone (as Ollama links them): the same tool twice, so only the order tells which answer is which.
    const second = await agentServing('openai');
    const { request } = await run(second.agent, {
      model: second.model,
      operation: 'chat',
      input: {
        messages: [
          ...CONVERSATION,
          assistant,
          { role: 'tool', tool_name: 'get_weather', content: 'Lyon: 18 C' },
          { role: 'tool', tool_name: 'get_weather', content: 'Nice: 24 C' },
        ],
      },
    });

    const sent = (request?.messages ?? []).slice(-3);
    expect(sent).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: CALLS.map((call, i) => ({
          id: ids[i],
          type: 'function',
          function: { name: call.name, arguments: JSON.stringify(call.arguments) },
        })),
      },
      { role: 'tool', content: 'Lyon: 18 C', tool_call_id: ids[0] },
      { role: 'tool', content: 'Nice: 24 C', tool_call_id: ids[1] },
    ]);
  });

  it('stores an OpenAI-shaped chat input in Hive shape, and an Ollama agent gets it in its own', async () => {
    const { agent, model } = await agentServing('ollama');
    const image = 'iVBORw0KGgoAAAANSUhEUg==';
    const lookup = { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } };
    const { task, request } = await run(agent, {
      model,
      operation: 'chat',
      input: {
        messages: [
          { role: 'developer', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in' },
              { type: 'text', text: 'this picture?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_abc', content: 'a cat' },
          { role: 'user', content: [{ type: 'text', text: 'Sure?' }] },
        ],
        tools: [{ type: 'function', function: { ...lookup, strict: true } }],
      },
    });

    const canonical = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is in\nthis picture?', images: [image] },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'lookup', arguments: { q: 'cat' } } }],
      },
      { role: 'tool', content: 'a cat', tool_call_id: 'call_abc' },
      { role: 'user', content: 'Sure?' },
    ];
    // OpenAI's `strict`, which other servers do not know, is left out.
    expect(task.input).toEqual({ messages: canonical, tools: [{ type: 'function', function: lookup }] });
    expect(request?.body).toEqual({
      model,
      messages: [
        canonical[0],
        canonical[1],
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'lookup', arguments: { q: 'cat' } } }] },
        { role: 'tool', content: 'a cat', tool_name: 'lookup' }, // Ollama links the answer by the tool's name
        canonical[4],
      ],
      tools: [{ type: 'function', function: lookup }],
      stream: false,
    });
    expect(task.result).toMatchObject({ message: { role: 'assistant', content: 'echo: Sure?' }, done_reason: 'stop' });
  });

  it('OpenAI: a generate runs as a chat (system, then the prompt) with sampling options translated; result.response', async () => {
    const { agent, model } = await agentServing('openai');
    const { task, request } = await run(agent, {
      model,
      input: {
        prompt: 'Say hi to the team',
        system: 'Be kind.',
        options: { temperature: 0.2, num_predict: 32, seed: 7, num_ctx: 4096 },
        keep_alive: '10m',
      },
    });

    expect(task.operation).toBe('generate');
    expect(request).toMatchObject({ path: '/v1/chat/completions', operation: 'chat' });
    // num_predict is max_tokens; num_ctx and keep_alive have no OpenAI equivalent and are not sent.
    expect(request?.body).toEqual({
      model,
      messages: [
        { role: 'system', content: 'Be kind.' },
        { role: 'user', content: 'Say hi to the team' },
      ],
      temperature: 0.2,
      max_tokens: 32,
      seed: 7,
    });
    expect(task.result).toEqual({
      response: 'echo: Say hi to the team',
      model,
      done_reason: 'stop',
      prompt_eval_count: words('Be kind. Say hi to the team'),
      eval_count: words('echo: Say hi to the team'),
      total_duration: expect.any(Number) as unknown, // timed by Hive: OpenAI servers report no durations
    });
    expect(task.result?.total_duration).toBeGreaterThan(0);
  });

  it('OpenAI: a generate with images sends them as data: URL parts of the user message', async () => {
    const { agent, model } = await agentServing('openai');
    const png = 'iVBORw0KGgoAAAANSUhEUg==';
    const jpeg = '/9j/4AAQSkZJRgABAQ==';
    const { task, request } = await run(agent, { model, input: { prompt: 'Compare these', images: [png, jpeg] } });

    expect(request?.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg}` } },
        ],
      },
    ]);
    expect(task.result?.response).toBe('echo: Compare these');
  });

  it('OpenAI: a chat without input gets the context (system, prompt) as its messages', async () => {
    const { agent, model } = await agentServing('openai');
    const { task, request } = await run(agent, {
      model,
      operation: 'chat',
      context: { prompt: 'Hello there', system: 'Answer in French.' },
    });

    expect(request?.messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Hello there' },
    ]);
    expect(task.input).toBeNull();
    expect(task.result?.message).toEqual({ role: 'assistant', content: 'echo: Hello there' });
  });
});

import { randomUUID } from 'node:crypto';
import { answerOf, ResponseContract, type Method } from './support/openapi-contract.js';
import { startHiveFixture, type HiveFixture } from './support/hive-fixture.js';
import type { AgentBehavior, OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { createKey, TEST_ADMIN_KEY } from './support/test-keys.js';

interface CallOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  base?: string;
}

/** A call to make and the status it must get; its answer must then be one the served document declares. */
interface Case {
  op: `${Uppercase<Method>} /${string}`;
  status: number;
  run: () => Promise<Response>;
  /** The content type the answer must come as, where the operation declares several (whole or streamed). */
  media?: string;
  /** What the body must hold, where the case is there for one branch of the schema (tool calls, base64, a stream). */
  shows?: unknown;
}

const METRICS_TOKEN = 'metrics-token-0123456789';
const BIG = { padding: 'x'.repeat(70_000) }; // over the 64 KB BODY_LIMIT below
const GHOST = randomUUID();

/** The gateway's models, each served by one agent of its own (see GATEWAY_AGENTS). */
const CHAT_MODEL = 'gateway-chat:1b';
const TOOLS_MODEL = 'gateway-tools:1b';
const BUSY_MODEL = 'gateway-busy:1b';
const BROKEN_MODEL = 'gateway-broken:1b';
const UNSERVED_MODEL = 'nobody-serves:1b';

/** For each model, how its agent answers: normally, with tool calls, never (so calls queue), or with errors. */
const GATEWAY_AGENTS: { id: string; model: string; behavior: AgentBehavior }[] = [
  { id: 'gateway-chat', model: CHAT_MODEL, behavior: { kind: 'ok' } },
  {
    id: 'gateway-tools',
    model: TOOLS_MODEL,
    behavior: { kind: 'ok', toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }] },
  },
  { id: 'gateway-busy', model: BUSY_MODEL, behavior: { kind: 'hang' } },
  { id: 'gateway-broken', model: BROKEN_MODEL, behavior: { kind: 'error', status: 500, message: 'CUDA error' } },
];

const MESSAGES = [{ role: 'user', content: 'Say hello to the hive' }];
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
/** Not a moment in the queue: a call whose model's agents are all busy times out at once. */
const NO_QUEUEING = { 'x-hive-queue-timeout-ms': '0' };

describe('every answer of every route matches the OpenAPI document the server serves', () => {
  let main: HiveFixture; // the one the document is read from
  let limited: HiveFixture; // THROTTLE_LIMIT=2 and METRICS_TOKEN set: for 429 and the metrics' 401
  let contract: ResponseContract;
  let fast: OllamaAgent;
  let operator: string;
  let viewer: string;
  let doneTask: string;
  let serial = 0;

  /** A request to `base` (default: `main`) as `key` (X-API-Key), or with raw headers. */
  const send = (method: Method, path: string, { key, body, headers = {}, base }: CallOptions = {}) =>
    fetch(`${base ?? main.hive.url}${path}`, {
      method: method.toUpperCase(),
      headers: {
        ...(key === undefined ? {} : { 'x-api-key': key }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const agentBody = (id: string, specialty = 'spare') => ({ id, endpoint: fast.url, model: 'm', specialty });
  const admin = TEST_ADMIN_KEY;
  const newAgent = async () => {
    const id = `agent-${++serial}`;
    await main.api.registerAgent({ id, endpoint: fast.url, specialty: 'spare' });
    return id;
  };
  const slowTask = async () => (await main.api.submitTask({ type: 'slow' })).id;
  /** A gateway call as the operator (X-API-Key; Bearer works the same); `path` is /v1/… or /api/…. */
  const call = (path: string, body: unknown, options: CallOptions = {}) =>
    send('post', path, { key: operator, body, ...options });
  /** The busy model's one agent runs a task that never ends, so a call for that model can only wait. */
  let busyHeld: Promise<unknown> | undefined;
  const holdBusyAgent = () =>
    (busyHeld ??= main.api
      .submitTask({ model: BUSY_MODEL, context: { prompt: 'hold the agent' } })
      .then(({ id }) => main.api.waitForTask(id, 'in_progress')));
  /** Hive's GET /api/ps once its probes have seen the chat model loaded (after a call ran on it). */
  const psWithChatModel = async () => {
    await call('/api/generate', { model: CHAT_MODEL, prompt: 'load the model', stream: false });
    const read = await pollUntil(
      async () => {
        const res = await send('get', '/api/ps', { key: operator });
        return { res, body: (await res.clone().json()) as { models?: { name: string }[] } };
      },
      ({ body }) => body.models?.some((m) => m.name === CHAT_MODEL) === true,
      { describe: `${CHAT_MODEL} to be listed as loaded` },
    );
    return read.res;
  };

  beforeAll(async () => {
    main = await startHiveFixture({ BODY_LIMIT: '64kb' });
    limited = await startHiveFixture({ THROTTLE_LIMIT: '2', METRICS_TOKEN });
    fast = await main.agents.start();
    const hanging = await main.agents.start({ behavior: { kind: 'hang' } });
    await main.api.registerAgent({ id: 'coder-1', endpoint: fast.url, specialty: 'code' });
    await main.api.registerAgent({ id: 'slow-1', endpoint: hanging.url, specialty: 'slow' });
    for (const { id, model, behavior } of GATEWAY_AGENTS) {
      const agent = await main.agents.start({ models: [model], behavior });
      // One slot each: the busy model's is taken by the task that never ends, so a call for it can only wait.
      await main.api.registerAgent({ id, endpoint: agent.url, specialty: 'chat', model, max_concurrent: 1 });
    }
    // The gateway routes by model, which needs the served lists the first probes find.
    for (const { id, model } of GATEWAY_AGENTS) await main.api.waitForModels(id, [model]);
    operator = (await createKey(main.hive.url, 'operator')).key;
    viewer = (await createKey(main.hive.url, 'viewer')).key;
    doneTask = (await main.api.submitTask({ type: 'code', context: { prompt: 'hi' } })).id;
    await main.api.waitForTask(doneTask, 'completed');
    // slow-1 now runs a task that never ends (until cancelled or shutdown): DELETE without force gets 409.
    await main.api.waitForTask(await slowTask(), 'in_progress');
    contract = await ResponseContract.load(main.hive.url);
  });
  afterAll(async () => {
    await main?.close();
    await limited?.close();
  });

  const cases: Case[] = [
    { op: 'GET /', status: 200, run: () => send('get', '/') },
    { op: 'GET /health', status: 200, run: () => send('get', '/health') },
    { op: 'GET /health/ready', status: 200, run: () => send('get', '/health/ready') },
    { op: 'GET /api/health', status: 200, run: () => send('get', '/api/health', { key: viewer }) },
    { op: 'GET /api/health', status: 401, run: () => send('get', '/api/health') },
    { op: 'GET /api/metrics', status: 200, run: () => send('get', '/api/metrics') },
    { op: 'GET /api/metrics', status: 401, run: () => send('get', '/api/metrics', { base: limited.hive.url }) },
    { op: 'GET /api/status', status: 200, run: () => send('get', '/api/status', { key: viewer }) },
    { op: 'GET /api/status', status: 401, run: () => send('get', '/api/status', { key: 'hive_unknown' }) },
    {
      op: 'GET /api/status',
      status: 429,
      run: async () => {
        for (let i = 0; i < 2; i++) await send('get', '/api/status', { key: admin, base: limited.hive.url });
        return send('get', '/api/status', { key: admin, base: limited.hive.url });
      },
    },
    { op: 'GET /api/agents', status: 200, run: () => send('get', '/api/agents', { key: viewer }) },
    {
      op: 'GET /api/agents',
      status: 401,
      run: () => send('get', '/api/agents', { headers: { authorization: 'Bearer hive_x' } }),
    },
    {
      op: 'POST /api/agents',
      status: 201,
      run: () => send('post', '/api/agents', { key: admin, body: agentBody('new-1') }),
    },
    {
      op: 'POST /api/agents',
      status: 400,
      run: () => send('post', '/api/agents', { key: admin, body: { ...agentBody('Bad Id'), model: '' } }),
    },
    {
      op: 'POST /api/agents',
      status: 403,
      run: () => send('post', '/api/agents', { key: operator, body: agentBody('new-2') }),
    },
    {
      op: 'POST /api/agents',
      status: 409,
      run: () => send('post', '/api/agents', { key: admin, body: agentBody('coder-1', 'code') }),
    },
    { op: 'POST /api/agents', status: 413, run: () => send('post', '/api/agents', { key: admin, body: BIG }) },
    { op: 'GET /api/agents/{id}', status: 200, run: () => send('get', '/api/agents/coder-1', { key: viewer }) },
    { op: 'GET /api/agents/{id}', status: 400, run: () => send('get', '/api/agents/Not%20A%20Slug', { key: viewer }) },
    { op: 'GET /api/agents/{id}', status: 404, run: () => send('get', '/api/agents/ghost', { key: viewer }) },
    {
      op: 'PATCH /api/agents/{id}',
      status: 200,
      run: () => send('patch', '/api/agents/coder-1', { key: admin, body: { max_concurrent: 3 } }),
    },
    {
      op: 'PATCH /api/agents/{id}',
      status: 400,
      run: () => send('patch', '/api/agents/coder-1', { key: admin, body: { max_concurrent: 0 } }),
    },
    {
      op: 'PATCH /api/agents/{id}',
      status: 403,
      run: () => send('patch', '/api/agents/coder-1', { key: operator, body: { model: 'x' } }),
    },
    {
      op: 'PATCH /api/agents/{id}',
      status: 404,
      run: () => send('patch', '/api/agents/ghost', { key: admin, body: { model: 'x' } }),
    },
    {
      op: 'PATCH /api/agents/{id}',
      status: 413,
      run: () => send('patch', '/api/agents/coder-1', { key: admin, body: BIG }),
    },
    {
      op: 'DELETE /api/agents/{id}',
      status: 200,
      run: async () => send('delete', `/api/agents/${await newAgent()}?force=true`, { key: admin }),
    },
    {
      op: 'DELETE /api/agents/{id}',
      status: 400,
      run: () => send('delete', '/api/agents/coder-1?force=maybe', { key: admin }),
    },
    { op: 'DELETE /api/agents/{id}', status: 403, run: () => send('delete', '/api/agents/coder-1', { key: operator }) },
    { op: 'DELETE /api/agents/{id}', status: 404, run: () => send('delete', '/api/agents/ghost', { key: admin }) },
    { op: 'DELETE /api/agents/{id}', status: 409, run: () => send('delete', '/api/agents/slow-1', { key: admin }) },
    {
      op: 'POST /api/tasks',
      status: 201,
      run: () => send('post', '/api/tasks', { key: operator, body: { type: 'code', priority: 5 } }),
    },
    {
      op: 'POST /api/tasks',
      status: 400,
      run: () => send('post', '/api/tasks', { key: operator, body: { type: 'nobody-serves-this' } }),
    },
    {
      op: 'POST /api/tasks',
      status: 403,
      run: () => send('post', '/api/tasks', { key: viewer, body: { type: 'code' } }),
    },
    {
      op: 'POST /api/tasks',
      status: 413,
      run: () => send('post', '/api/tasks', { key: operator, body: { type: 'code', context: BIG } }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 201,
      run: () =>
        send('post', '/api/tasks/batch', {
          key: operator,
          body: {
            tasks: [
              { type: 'code', priority: 5 },
              { type: 'code', context: { prompt: 'hi' } },
            ],
          },
        }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 400,
      run: () =>
        send('post', '/api/tasks/batch', {
          key: operator,
          body: { tasks: [{ type: 'code' }, { type: 'code', priority: 6 }] },
        }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 400,
      run: () =>
        send('post', '/api/tasks/batch', {
          key: operator,
          body: { tasks: [{ type: 'code' }, { type: 'nobody-serves-this' }] },
        }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 400,
      run: () => send('post', '/api/tasks/batch', { key: operator, body: { tasks: [] } }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 401,
      run: () => send('post', '/api/tasks/batch', { body: { tasks: [{ type: 'code' }] } }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 403,
      run: () => send('post', '/api/tasks/batch', { key: viewer, body: { tasks: [{ type: 'code' }] } }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 413,
      run: () => send('post', '/api/tasks/batch', { key: operator, body: { tasks: [{ type: 'code', context: BIG }] } }),
    },
    {
      op: 'POST /api/tasks/batch',
      status: 413,
      run: () =>
        send('post', '/api/tasks/batch', {
          key: operator,
          body: { tasks: Array.from({ length: 1000 }, () => ({ type: 'code', context: { prompt: 'x'.repeat(100) } })) },
        }),
    },
    {
      op: 'GET /api/tasks',
      status: 200,
      run: () => send('get', '/api/tasks?type=code&status=completed&limit=5', { key: viewer }),
    },
    { op: 'GET /api/tasks', status: 400, run: () => send('get', '/api/tasks?limit=0', { key: viewer }) },
    { op: 'GET /api/tasks/{id}', status: 200, run: () => send('get', `/api/tasks/${doneTask}`, { key: viewer }) },
    { op: 'GET /api/tasks/{id}', status: 400, run: () => send('get', '/api/tasks/not-a-uuid', { key: viewer }) },
    { op: 'GET /api/tasks/{id}', status: 404, run: () => send('get', `/api/tasks/${GHOST}`, { key: viewer }) },
    {
      op: 'GET /api/tasks/{id}/events',
      status: 200,
      run: () => send('get', `/api/tasks/${doneTask}/events`, { key: viewer }),
    },
    {
      op: 'GET /api/tasks/{id}/events',
      status: 400,
      run: () => send('get', '/api/tasks/not-a-uuid/events', { key: viewer }),
    },
    {
      op: 'GET /api/tasks/{id}/events',
      status: 404,
      run: () => send('get', `/api/tasks/${GHOST}/events`, { key: viewer }),
    },
    {
      op: 'POST /api/tasks',
      status: 200,
      run: () => send('post', '/api/tasks?wait=30', { key: operator, body: { type: 'code', context: { n: 1 } } }),
    },
    {
      op: 'POST /api/tasks',
      status: 422,
      run: async () => {
        const headers = { 'idempotency-key': `reused-${randomUUID()}` };
        await send('post', '/api/tasks', { key: operator, headers, body: { type: 'code', context: { n: 1 } } });
        return send('post', '/api/tasks', { key: operator, headers, body: { type: 'code', context: { n: 2 } } });
      },
    },
    {
      op: 'POST /api/tasks/{id}/cancel',
      status: 200,
      run: async () => send('post', `/api/tasks/${await slowTask()}/cancel`, { key: operator }),
    },
    {
      op: 'POST /api/tasks/{id}/cancel',
      status: 400,
      run: () => send('post', '/api/tasks/42/cancel', { key: operator }),
    },
    {
      op: 'POST /api/tasks/{id}/cancel',
      status: 403,
      run: () => send('post', `/api/tasks/${doneTask}/cancel`, { key: viewer }),
    },
    {
      op: 'POST /api/tasks/{id}/cancel',
      status: 404,
      run: () => send('post', `/api/tasks/${GHOST}/cancel`, { key: operator }),
    },
    {
      op: 'POST /api/tasks/{id}/cancel',
      status: 409,
      run: () => send('post', `/api/tasks/${doneTask}/cancel`, { key: operator }),
    },
    { op: 'GET /api/keys', status: 200, run: () => send('get', '/api/keys', { key: admin }) },
    { op: 'GET /api/keys', status: 403, run: () => send('get', '/api/keys', { key: operator }) },
    {
      op: 'POST /api/keys',
      status: 201,
      run: () =>
        send('post', '/api/keys', {
          key: admin,
          body: { name: 'ci', role: 'viewer', expires_at: '2099-01-01T00:00:00Z' },
        }),
    },
    {
      op: 'POST /api/keys',
      status: 400,
      run: () => send('post', '/api/keys', { key: admin, body: { name: 'ci', role: 'root' } }),
    },
    {
      op: 'POST /api/keys',
      status: 403,
      run: () => send('post', '/api/keys', { key: viewer, body: { name: 'ci', role: 'viewer' } }),
    },
    { op: 'POST /api/keys', status: 413, run: () => send('post', '/api/keys', { key: admin, body: BIG }) },
    {
      op: 'DELETE /api/keys/{id}',
      status: 200,
      run: async () => send('delete', `/api/keys/${(await createKey(main.hive.url, 'viewer')).id}`, { key: admin }),
    },
    { op: 'DELETE /api/keys/{id}', status: 400, run: () => send('delete', '/api/keys/nope', { key: admin }) },
    { op: 'DELETE /api/keys/{id}', status: 403, run: () => send('delete', `/api/keys/${GHOST}`, { key: operator }) },
    { op: 'DELETE /api/keys/{id}', status: 404, run: () => send('delete', `/api/keys/${GHOST}`, { key: admin }) },
    // The gateway: OpenAI's API on /v1, errors in OpenAI's shape.
    {
      op: 'POST /v1/chat/completions',
      status: 200,
      media: 'application/json',
      run: () => call('/v1/chat/completions', { model: CHAT_MODEL, messages: MESSAGES }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 200,
      media: 'text/event-stream',
      shows: expect.stringMatching(/"choices":\[\],"usage":\{"prompt_tokens".*\n\ndata: \[DONE\]\n\n$/s),
      run: () =>
        call(
          '/v1/chat/completions',
          { model: CHAT_MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
          { key: undefined, headers: { authorization: `Bearer ${operator}` } },
        ),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 200,
      media: 'application/json',
      shows: {
        choices: [{ message: { content: null, tool_calls: [{ type: 'function' }] }, finish_reason: 'tool_calls' }],
      },
      run: () => call('/v1/chat/completions', { model: TOOLS_MODEL, messages: MESSAGES, tools: [WEATHER_TOOL] }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 400,
      run: () => call('/v1/chat/completions', { model: CHAT_MODEL, messages: MESSAGES, n: 2 }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 400,
      run: () =>
        call(
          '/v1/chat/completions',
          { model: CHAT_MODEL, messages: MESSAGES },
          { headers: { 'x-hive-priority': '9' } },
        ),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 401,
      run: () => call('/v1/chat/completions', { model: CHAT_MODEL, messages: MESSAGES }, { key: undefined }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 403,
      run: () => call('/v1/chat/completions', { model: CHAT_MODEL, messages: MESSAGES }, { key: viewer }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 404,
      run: () => call('/v1/chat/completions', { model: UNSERVED_MODEL, messages: MESSAGES }),
    },
    { op: 'POST /v1/chat/completions', status: 413, run: () => call('/v1/chat/completions', BIG) },
    {
      op: 'POST /v1/chat/completions',
      status: 502,
      run: () => call('/v1/chat/completions', { model: BROKEN_MODEL, messages: MESSAGES }),
    },
    {
      op: 'POST /v1/chat/completions',
      status: 503,
      run: async () => {
        await holdBusyAgent();
        return call('/v1/chat/completions', { model: BUSY_MODEL, messages: MESSAGES }, { headers: NO_QUEUEING });
      },
    },
    {
      op: 'POST /v1/completions',
      status: 200,
      media: 'application/json',
      run: () => call('/v1/completions', { model: CHAT_MODEL, prompt: 'Say hello' }),
    },
    {
      op: 'POST /v1/completions',
      status: 200,
      media: 'text/event-stream',
      shows: expect.stringMatching(/"object":"text_completion".*\n\ndata: \[DONE\]\n\n$/s),
      run: () => call('/v1/completions', { model: CHAT_MODEL, prompt: 'Say hello', stream: true }),
    },
    {
      op: 'POST /v1/completions',
      status: 400,
      run: () => call('/v1/completions', { model: CHAT_MODEL, prompt: 'Say hello', suffix: '!' }),
    },
    {
      op: 'POST /v1/embeddings',
      status: 200,
      run: () => call('/v1/embeddings', { model: CHAT_MODEL, input: ['one', 'two'] }),
    },
    {
      op: 'POST /v1/embeddings',
      status: 200,
      shows: { data: [{ embedding: expect.any(String) as unknown }] },
      run: () => call('/v1/embeddings', { model: CHAT_MODEL, input: 'one', encoding_format: 'base64' }),
    },
    {
      op: 'POST /v1/embeddings',
      status: 400,
      run: () => call('/v1/embeddings', { model: CHAT_MODEL, input: 'one', dimensions: 4 }),
    },
    { op: 'GET /v1/models', status: 200, run: () => send('get', '/v1/models', { key: operator }) },
    {
      op: 'GET /v1/models',
      status: 401,
      run: () => send('get', '/v1/models', { headers: { authorization: 'Bearer hive_x' } }),
    },
    {
      op: 'GET /v1/models',
      status: 429,
      run: async () => {
        for (let i = 0; i < 2; i++) await send('get', '/v1/models', { key: admin, base: limited.hive.url });
        return send('get', '/v1/models', { key: admin, base: limited.hive.url });
      },
    },
    {
      op: 'GET /v1/models/{model}',
      status: 200,
      run: () => send('get', `/v1/models/${encodeURIComponent(CHAT_MODEL)}`, { key: operator }),
    },
    {
      op: 'GET /v1/models/{model}',
      status: 404,
      run: () => send('get', `/v1/models/${encodeURIComponent(UNSERVED_MODEL)}`, { key: operator }),
    },
    // The gateway: Ollama's API on its own paths, errors in Ollama's shape.
    {
      op: 'POST /api/chat',
      status: 200,
      media: 'application/x-ndjson',
      shows: expect.stringMatching(/"done":false.*\n.*"done":true.*\n$/s),
      run: () => call('/api/chat', { model: CHAT_MODEL, messages: MESSAGES }),
    },
    {
      op: 'POST /api/chat',
      status: 200,
      media: 'application/json',
      run: () => call('/api/chat', { model: CHAT_MODEL, messages: MESSAGES, stream: false }),
    },
    {
      op: 'POST /api/chat',
      status: 200,
      media: 'application/json',
      shows: { message: { tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Lyon' } } }] } },
      run: () => call('/api/chat', { model: TOOLS_MODEL, messages: MESSAGES, tools: [WEATHER_TOOL], stream: false }),
    },
    { op: 'POST /api/chat', status: 400, run: () => call('/api/chat', { model: CHAT_MODEL, messages: [] }) },
    {
      op: 'POST /api/chat',
      status: 401,
      run: () => call('/api/chat', { model: CHAT_MODEL, messages: MESSAGES }, { key: 'hive_unknown' }),
    },
    {
      op: 'POST /api/chat',
      status: 403,
      run: () => call('/api/chat', { model: CHAT_MODEL, messages: MESSAGES }, { key: viewer }),
    },
    {
      op: 'POST /api/chat',
      status: 404,
      run: () => call('/api/chat', { model: UNSERVED_MODEL, messages: MESSAGES, stream: false }),
    },
    { op: 'POST /api/chat', status: 413, run: () => call('/api/chat', BIG) },
    {
      op: 'POST /api/chat',
      status: 502,
      run: () => call('/api/chat', { model: BROKEN_MODEL, messages: MESSAGES }),
    },
    {
      op: 'POST /api/chat',
      status: 503,
      run: async () => {
        await holdBusyAgent();
        return call('/api/chat', { model: BUSY_MODEL, messages: MESSAGES }, { headers: NO_QUEUEING });
      },
    },
    {
      op: 'POST /api/generate',
      status: 200,
      media: 'application/x-ndjson',
      shows: expect.stringMatching(/"done":false.*\n.*"done":true.*\n$/s),
      run: () => call('/api/generate', { model: CHAT_MODEL, prompt: 'Say hello' }),
    },
    {
      op: 'POST /api/generate',
      status: 200,
      media: 'application/json',
      run: () => call('/api/generate', { model: CHAT_MODEL, prompt: 'Say hello', stream: false }),
    },
    {
      op: 'POST /api/generate',
      status: 400,
      run: () => call('/api/generate', { model: CHAT_MODEL, prompt: 'Say hello', raw: true }),
    },
    {
      op: 'POST /api/embed',
      status: 200,
      run: () => call('/api/embed', { model: CHAT_MODEL, input: ['one', 'two'] }),
    },
    {
      op: 'POST /api/embed',
      status: 400,
      run: () => call('/api/embed', { model: CHAT_MODEL, input: 'one', dimensions: 4 }),
    },
    { op: 'POST /api/show', status: 200, run: () => call('/api/show', { model: CHAT_MODEL }) },
    { op: 'POST /api/show', status: 400, run: () => call('/api/show', {}) },
    { op: 'POST /api/show', status: 404, run: () => call('/api/show', { model: UNSERVED_MODEL }) },
    { op: 'GET /api/tags', status: 200, run: () => send('get', '/api/tags', { key: operator }) },
    {
      op: 'GET /api/tags',
      status: 429,
      run: async () => {
        for (let i = 0; i < 2; i++) await send('get', '/api/tags', { key: admin, base: limited.hive.url });
        return send('get', '/api/tags', { key: admin, base: limited.hive.url });
      },
    },
    { op: 'GET /api/ps', status: 200, run: psWithChatModel },
    { op: 'GET /api/version', status: 200, run: () => send('get', '/api/version') },
  ];

  it.each(cases)('$op → $status', async ({ op, status, run, media, shows }) => {
    const [method, template] = op.split(' ') as [string, string];
    const res = await run();
    if (status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const answer = await answerOf(res);
    expect({ op, status: answer.status, body: answer.body }).toMatchObject({ op, status });
    if (media !== undefined) expect({ op, media: answer.contentType?.split(';')[0] }).toEqual({ op, media });
    if (shows !== undefined) expect({ op, body: answer.body }).toMatchObject({ op, body: shows });
    contract.check(method.toLowerCase() as Method, template, answer);
  });

  it('has a case for every operation of the document, and for every status the issue names', () => {
    // Each case asserts its own status and checks its answer against the document, so the list of cases is what
    // the suite covers, whichever of them ran (and in whatever order).
    const operations = contract.operations();
    const planned = new Set<string>(cases.map((c) => c.op));
    expect(operations.filter((op) => !planned.has(op))).toEqual([]);
    expect([...planned].filter((op) => !operations.includes(op))).toEqual([]);
    const statuses = new Set(cases.map((c) => c.status));
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404, 409, 413, 429]));
  });

  it('fails an answer whose status, content type or body the document does not declare', () => {
    const json = 'application/json; charset=utf-8';
    const agent = { status: 'success', message: 'Agent a registered', agent_id: 'a' };
    expect(() => contract.check('post', '/api/agents', { status: 201, contentType: json, body: agent })).not.toThrow();
    expect(() => contract.check('get', '/', { status: 404, contentType: json, body: {} })).toThrow(/does not declare/);
    expect(() => contract.check('get', '/api/nowhere', { status: 200, contentType: json, body: {} })).toThrow(
      /no operation/,
    );
    expect(() => contract.check('get', '/', { status: 200, contentType: 'text/plain', body: 'hive' })).toThrow(
      /came as text\/plain/,
    );
    const renamed = { status: agent.status, message: agent.message, agentId: agent.agent_id };
    expect(() => contract.check('post', '/api/agents', { status: 201, contentType: json, body: renamed })).toThrow(
      /agent_id/,
    );
    expect(() =>
      contract.check('post', '/api/agents', { status: 201, contentType: json, body: { ...agent, extra: 1 } }),
    ).toThrow(/additional/);
  });
});

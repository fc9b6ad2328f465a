import OpenAI, { BadRequestError, InternalServerError } from 'openai';
import { Ollama } from 'ollama';
import type { HiveApi, Task } from './support/api.js';
import { suiteFixture, type HiveFixture } from './support/hive-fixture.js';
import type { AgentBehavior, AgentProtocol, AgentRequestRecord, OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { createKey } from './support/test-keys.js';

type Dialect = 'openai' | 'ollama';

/** A task as the gateway leaves it: which dialect made it, and what it kept (the generated types may lag). */
type GatewayTask = Task & { gateway: Dialect | null; retain: string };

/** What a call let the test see: its answer's headers, and the pieces of text as they arrived. */
interface Seen {
  headers?: Headers;
  pieces: string[];
}

interface CallOptions {
  stream?: boolean;
  /** Request headers (x-hive-priority, x-hive-queue-timeout-ms). */
  headers?: Record<string, string>;
  seen?: Seen;
  /** Aborts the call (as a client that goes away). */
  signal?: AbortSignal;
}

/** A promise the test settles: the agent's answer waits for open(). */
interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** The task ended (Hive records the end just after the client has its answer). */
const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The text of a chat request's last message, as the agent received it. */
function promptOf(request: AgentRequestRecord | undefined): string {
  const last = request?.messages?.at(-1) as { content?: unknown } | undefined;
  return typeof last?.content === 'string' ? last.content : '';
}

/** The text of a chat task's first message, as Hive stored it. */
function chatPromptOf(task: Task): unknown {
  return (task.input as { messages?: { content?: unknown }[] } | null)?.messages?.[0]?.content;
}

/** The error a call rejects with (a call that answers fails the test). */
async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (value) => {
      throw new Error(`expected the call to fail, it answered ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/**
 * The official clients pointed at Hive, as an application would use them. The Ollama client does not show the
 * answer's headers, so its fetch records them; every call also carries the test's abort signal, so afterEach can end
 * a call a failed test left waiting.
 */
class Gateway {
  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly signal: () => AbortSignal,
  ) {}

  openai(): OpenAI {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: this.key, maxRetries: 0 });
  }

  ollama(headers: Record<string, string> = {}, seen?: Seen, signal?: AbortSignal): Ollama {
    return new Ollama({
      host: this.url,
      headers: { authorization: `Bearer ${this.key}`, ...headers },
      fetch: async (input, init) => {
        const res = await fetch(input, { ...init, signal: this.signalWith(init?.signal, signal) });
        if (seen !== undefined) seen.headers = res.headers;
        return res;
      },
    });
  }

  /** One user message to `model` in `dialect`; resolves with the answer's text. */
  async chat(dialect: Dialect, model: string, prompt: string, options: CallOptions = {}): Promise<string> {
    const { stream = false, headers = {}, seen = { pieces: [] }, signal } = options;
    const messages = [{ role: 'user' as const, content: prompt }];
    if (dialect === 'ollama') {
      const client = this.ollama(headers, seen, signal);
      if (!stream) seen.pieces.push((await client.chat({ model, messages, stream })).message.content);
      else
        for await (const part of await client.chat({ model, messages, stream })) seen.pieces.push(part.message.content);
      return seen.pieces.join('');
    }
    const request = { headers, signal: this.signalWith(signal) };
    if (!stream) {
      const { data, response } = await this.openai()
        .chat.completions.create({ model, messages }, request)
        .withResponse();
      seen.headers = response.headers;
      seen.pieces.push(data.choices[0]?.message.content ?? '');
    } else {
      const { data, response } = await this.openai()
        .chat.completions.create({ model, messages, stream }, request)
        .withResponse();
      seen.headers = response.headers;
      for await (const chunk of data) seen.pieces.push(chunk.choices[0]?.delta.content ?? '');
    }
    return seen.pieces.join('');
  }

  /** A plain fetch of a gateway route, for the exact bytes and headers. */
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: this.signal(),
    });
  }

  /** The test's signal, with the call's own ones. */
  private signalWith(...signals: (AbortSignal | null | undefined)[]): AbortSignal {
    return AbortSignal.any([this.signal(), ...signals.filter((s): s is AbortSignal => s != null)]);
  }
}

/** An agent a test started and registered, and the model it serves. */
interface Served {
  agent: OllamaAgent;
  id: string;
  model: string;
}

/** The gates, calls and agents of one describe block's tests, with what afterEach must end. */
function gatewayWorld(world: () => HiveFixture) {
  let api!: HiveApi;
  let gateway!: Gateway;
  let scope = new AbortController();
  let gates: Gate[] = [];
  let background: Promise<unknown>[] = [];
  let serial = 0;

  beforeAll(async () => {
    api = world().api;
    // An operator key, the least a gateway client needs.
    const { key } = await createKey(world().hive.url, 'operator', 'gateway client');
    gateway = new Gateway(world().hive.url, key, () => scope.signal);
  });
  afterEach(async () => {
    for (const g of gates) g.open();
    scope.abort(); // a call a failed test left waiting in the queue
    await Promise.allSettled(background);
    scope = new AbortController();
    gates = [];
    background = [];
  });

  return {
    api: () => api,
    gateway: () => gateway,
    /** A gate that afterEach opens if the test did not. */
    gate(): Gate {
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      const g = { promise, open };
      gates.push(g);
      return g;
    },
    /** A call the test awaits later: afterEach waits for it to end, and its failure is never unhandled. */
    inBackground<T>(call: Promise<T>): Promise<T> {
      background.push(call.catch(() => undefined));
      return call;
    },
    /** A new agent of its own (`max_concurrent` 1 unless told) serving `model`, or a fresh model of its own. */
    async serve(
      name: string,
      options: { kind?: AgentProtocol; behavior?: AgentBehavior; maxConcurrent?: number; model?: string } = {},
    ): Promise<Served> {
      const id = `${name}-${++serial}`;
      const model = options.model ?? `${id}:1b`;
      const agent = await world().agents.start({ protocol: options.kind, behavior: options.behavior, models: [model] });
      await api.registerAgent({
        id,
        endpoint: agent.url,
        specialty: id,
        model,
        kind: options.kind,
        max_concurrent: options.maxConcurrent ?? 1,
      });
      return { agent, id, model };
    },
    /** A fresh model on one agent with one slot, held by a gated call; resolves once the agent holds it. */
    async busyAgent(name: string): Promise<Served & { slot: Gate; holder: Promise<string> }> {
      const slot = this.gate();
      const served = await this.serve(name);
      served.agent.queueBehaviors({ kind: 'ok', gate: slot.promise });
      const holder = this.inBackground(gateway.chat('openai', served.model, 'holder'));
      await served.agent.waitForRequests(1);
      return { ...served, slot, holder };
    },
    /** Waits until `count` tasks of `model` wait in the queue. */
    async waitForQueued(model: string, count: number): Promise<void> {
      await pollUntil(
        () => api.listTasks({ model, status: 'pending' }),
        (list) => list.filtered === count,
        { describe: `${count} pending tasks of ${model}` },
      );
    },
    /** The tasks of `model`, newest first. */
    async tasksOf(model: string, status?: Task['status']): Promise<GatewayTask[]> {
      const list = await api.listTasks({ model, limit: 100, ...(status === undefined ? {} : { status }) });
      return list.tasks as GatewayTask[];
    },
  };
}

describe('gateway: the queue, its headers and what tasks keep (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const w = gatewayWorld(world);
  const DIALECT_STREAMS: [Dialect, boolean][] = [
    ['openai', false],
    ['openai', true],
    ['ollama', false],
    ['ollama', true],
  ];

  describe('a call that waits in the queue', () => {
    it.each(DIALECT_STREAMS)(
      '%s (stream: %s) still queued after x-hive-queue-timeout-ms 300 gets 503 queue_timeout with Retry-After; its task is cancelled',
      async (dialect, stream) => {
        const { agent, model, slot, holder } = await w.busyAgent('qtimeout');
        const seen: Seen = { pieces: [] };
        const headers = { 'x-hive-queue-timeout-ms': '300' };

        const error = await rejectionOf(w.gateway().chat(dialect, model, 'too late', { stream, headers, seen }));
        if (dialect === 'openai') {
          expect(error).toBeInstanceOf(InternalServerError);
          expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'queue_timeout' });
          expect((error as InternalServerError).headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        } else {
          expect(error).toMatchObject({ name: 'ResponseError', status_code: 503 });
          expect(seen.headers?.get('retry-after')).toMatch(/^[1-9]\d*$/);
        }

        const [cancelled] = await pollUntil(
          () => w.tasksOf(model, 'cancelled'),
          (tasks) => tasks.length === 1,
          { describe: `the timed-out task of ${model} to be cancelled` },
        );
        expect(cancelled).toMatchObject({ gateway: dialect, operation: 'chat', model, attempts: 0 });
        slot.open();
        await expect(holder).resolves.toBe('echo: holder');
        // The timed-out call never reached the agent.
        expect(agent.requests.map(promptOf)).toEqual(['holder']);
      },
    );

    it('waits while the only slot is taken, then runs once it frees; x-hive-queue-ms says how long it waited', async () => {
      const { agent, id, model, slot, holder } = await w.busyAgent('qwait');
      const seen: Seen = { pieces: [] };
      let answered = false;
      const waiting = w.inBackground(
        w
          .gateway()
          .chat('ollama', model, 'patience', { seen })
          .finally(() => (answered = true)),
      );

      await w.waitForQueued(model, 1);
      expect(answered).toBe(false);
      expect(agent.requests).toHaveLength(1);
      slot.open();

      await expect(waiting).resolves.toBe('echo: patience');
      await expect(holder).resolves.toBe('echo: holder');
      expect(agent.requests.map(promptOf)).toEqual(['holder', 'patience']);
      expect(seen.headers?.get('x-hive-agent')).toBe(id);
      expect(Number(seen.headers?.get('x-hive-queue-ms'))).toBeGreaterThan(0);
      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'completed', gateway: 'ollama', attempts: 1, assigned_agent: id });
    });

    it('x-hive-priority orders the queue: a priority-5 call queued after a priority-1 one reaches the agent first', async () => {
      const { agent, model, slot, holder } = await w.busyAgent('qprio');
      const call = (prompt: string, priority: string) =>
        w.inBackground(w.gateway().chat('openai', model, prompt, { headers: { 'x-hive-priority': priority } }));

      const low = call('low', '1');
      await w.waitForQueued(model, 1);
      const high = call('high', '5');
      await w.waitForQueued(model, 2);
      slot.open();

      await expect(Promise.all([holder, low, high])).resolves.toEqual(['echo: holder', 'echo: low', 'echo: high']);
      expect(agent.requests.map(promptOf)).toEqual(['holder', 'high', 'low']);
      const priorities = (await w.tasksOf(model)).map((t) => [chatPromptOf(t), t.priority]);
      expect(priorities.sort()).toEqual([
        ['high', 5],
        ['holder', 3],
        ['low', 1],
      ]);
    });

    it.each([
      ['x-hive-priority', '9'],
      ['x-hive-priority', '0'],
      ['x-hive-queue-timeout-ms', '-1'],
      ['x-hive-queue-timeout-ms', 'abc'],
    ])('%s: %s is refused with 400 in each dialect’s error shape, and nothing is queued', async (header, value) => {
      const { model } = await w.serve('qbad');
      const headers = { [header]: value };
      const messages = [{ role: 'user', content: 'x' }];

      const openaiError = await rejectionOf(w.gateway().chat('openai', model, 'x', { headers }));
      expect(openaiError).toBeInstanceOf(BadRequestError);
      expect(openaiError).toMatchObject({ status: 400, type: 'invalid_request_error' });
      const openaiRaw = await w.gateway().post('/v1/chat/completions', { model, messages }, headers);
      expect(openaiRaw.status).toBe(400);
      const { error } = (await openaiRaw.json()) as { error: Record<string, unknown> };
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(JSON.stringify(error)).toContain(header);

      const ollamaError = await rejectionOf(w.gateway().chat('ollama', model, 'x', { headers }));
      expect(ollamaError).toMatchObject({ name: 'ResponseError', status_code: 400 });
      const ollamaRaw = await w.gateway().post('/api/chat', { model, messages }, headers);
      expect(ollamaRaw.status).toBe(400);
      const body = (await ollamaRaw.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toEqual(expect.stringContaining(header));

      expect(await w.tasksOf(model)).toEqual([]);
    });
  });

  describe('the headers of an answer', () => {
    it.each([
      ['openai', false, 'ollama'],
      ['openai', true, 'ollama'],
      ['ollama', false, 'ollama'],
      ['ollama', true, 'ollama'],
      ['openai', false, 'openai'],
      ['openai', true, 'openai'],
      ['ollama', false, 'openai'],
      ['ollama', true, 'openai'],
    ] as [Dialect, boolean, AgentProtocol][])(
      '%s (stream: %s) on an %s agent: x-hive-task-id, x-hive-agent and x-hive-queue-ms, and no hop-by-hop header of the agent’s',
      async (dialect, stream, kind) => {
        const { id, model } = await w.serve('headers', { kind });
        const path = dialect === 'openai' ? '/v1/chat/completions' : '/api/chat';
        const res = await w.gateway().post(path, { model, stream, messages: [{ role: 'user', content: 'hi' }] });
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(text).toContain('echo:');

        const taskId = res.headers.get('x-hive-task-id') ?? '';
        expect(taskId).toMatch(UUID);
        expect(res.headers.get('x-hive-agent')).toBe(id);
        expect(res.headers.get('x-hive-queue-ms')).toMatch(/^\d+$/);
        const task = (await w.api().getTask(taskId)) as GatewayTask;
        expect(task).toMatchObject({ gateway: dialect, operation: 'chat', model, assigned_agent: id });

        // Connection management is between Hive and its client: the same as on any route of Hive's own.
        const own = await fetch(`${world().hive.url}/health`);
        await own.text();
        expect(res.headers.get('connection')).toBe(own.headers.get('connection'));
        expect(res.headers.get('keep-alive')).toBe(own.headers.get('keep-alive'));
        // Hive frames the body itself: chunked once (a stream), or a length, never both and never the agent's.
        const framing = [res.headers.get('transfer-encoding'), res.headers.get('content-length') !== null];
        expect([
          ['chunked', false],
          [null, true],
        ]).toContainEqual(framing);
        for (const hop of ['proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'upgrade']) {
          expect([hop, res.headers.get(hop)]).toEqual([hop, null]);
        }
      },
    );
  });

  it('by default (GATEWAY_RETAIN=full) a gateway task keeps its input and its result', async () => {
    const { model } = await w.serve('rfull');
    const seen: Seen = { pieces: [] };
    await expect(w.gateway().chat('openai', model, 'keep me', { seen })).resolves.toBe('echo: keep me');

    const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
    expect(task).toMatchObject({
      status: 'completed',
      retain: 'full',
      input: { messages: [{ role: 'user', content: 'keep me' }] },
      result: { message: { role: 'assistant', content: 'echo: keep me' }, model },
    });
  });
});

describe('gateway: GATEWAY_RETAIN=metadata, GATEWAY_QUEUE_TIMEOUT_MS=300 (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture({ GATEWAY_RETAIN: 'metadata', GATEWAY_QUEUE_TIMEOUT_MS: '300' });
  const w = gatewayWorld(world);

  it('a call without x-hive-queue-timeout-ms waits GATEWAY_QUEUE_TIMEOUT_MS in the queue, then gets 503', async () => {
    const { model, slot, holder } = await w.busyAgent('qdefault');

    const error = await rejectionOf(w.gateway().chat('openai', model, 'too late'));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, code: 'queue_timeout' });
    slot.open();
    await expect(holder).resolves.toBe('echo: holder');
    await expect(w.tasksOf(model, 'cancelled')).resolves.toHaveLength(1);
  });

  it.each([
    ['openai', false],
    ['ollama', true],
  ] as [Dialect, boolean][])(
    '%s (stream: %s): once the call ended, the task keeps no input and no answer text, only its metadata',
    async (dialect, stream) => {
      const { id, model, agent } = await w.serve('rmeta');
      const seen: Seen = { pieces: [] };
      await expect(w.gateway().chat(dialect, model, 'forget me', { stream, seen })).resolves.toBe('echo: forget me');
      // The agent got the whole conversation: only what Hive keeps is cut.
      expect(agent.requests.map(promptOf)).toEqual(['forget me']);

      const taskId = seen.headers?.get('x-hive-task-id') ?? '';
      const task = (await w
        .api()
        .waitForTask(taskId, (t) => t.status === 'completed' && t.input === null)) as GatewayTask;
      expect(task).toMatchObject({ retain: 'metadata', gateway: dialect, assigned_agent: id, attempts: 1 });
      expect(task.result).toEqual(
        expect.objectContaining({
          model,
          done_reason: 'stop',
          prompt_eval_count: expect.any(Number) as unknown,
          eval_count: expect.any(Number) as unknown,
        }),
      );
      expect(task.result).not.toHaveProperty('message');
      expect(task.result).not.toHaveProperty('response');
      expect(task.result).not.toHaveProperty('embeddings');
    },
  );
});

import { Ollama } from 'ollama';
import OpenAI, { APIError } from 'openai';
import type { HiveApi, Task } from './support/api.js';
import { firstRequestFails, suiteFixture, type HiveFixture } from './support/hive-fixture.js';
import type { AgentBehavior, AgentProtocol, OllamaAgent } from './support/ollama-agent.js';
import { pollUntil, waitUntil } from './support/poll.js';
import { parseSamples, sampleValue, type Sample } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';
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

/** The task ended (Hive records the end just after the client has its answer). */
const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

/** The requests the gateway counted for `model`: one entry per series of hive_gateway_requests_total. */
function requestsCounted(samples: readonly Sample[], model: string): Record<string, string | number>[] {
  return samples
    .filter((s) => s.name === 'hive_gateway_requests_total' && s.labels.model === model)
    .sort((a, b) => `${a.labels.dialect}/${a.labels.outcome}`.localeCompare(`${b.labels.dialect}/${b.labels.outcome}`))
    .map((s) => ({ ...s.labels, value: s.value }));
}

describe('gateway: failover, broken streams, aborts and metrics (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const w = gatewayWorld(world);
  const DIALECT_STREAMS: [Dialect, boolean][] = [
    ['openai', false],
    ['openai', true],
    ['ollama', false],
    ['ollama', true],
  ];

  it.each([
    ['openai', false, 'answers 500'],
    ['openai', true, 'is down'],
    ['ollama', false, 'is down'],
    ['ollama', true, 'answers 500'],
  ] as [Dialect, boolean, string][])(
    '%s (stream: %s): the agent chosen first %s: the call is answered by the other one, invisibly (attempts 2)',
    async (dialect, stream, failure) => {
      const one = await w.serve('failover');
      const other = await w.serve('failover', { model: one.model });
      const bad: AgentBehavior =
        failure === 'is down' ? { kind: 'down' } : { kind: 'error', status: 500, message: 'CUDA error' };
      // Whichever agent Hive picks first fails; the other one answers.
      const choice = firstRequestFails([one.agent, other.agent], bad);
      const seen: Seen = { pieces: [] };

      await expect(w.gateway().chat(dialect, one.model, 'fail over', { stream, seen })).resolves.toBe(
        'echo: fail over',
      );
      const answering = choice.first() === one.agent ? other : one;
      expect(choice.first()).toBeDefined();
      expect(seen.headers?.get('x-hive-agent')).toBe(answering.id);
      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: answering.id, gateway: dialect });
      expect([one.agent.requests.length, other.agent.requests.length]).toEqual([1, 1]);
    },
  );

  it.each<Dialect>(['openai', 'ollama'])(
    '%s: an agent stream that breaks after 2 pieces: the client gets them, then an error; the task failed, not retried',
    async (dialect) => {
      const { agent, model, id } = await w.serve('midstream', {
        behavior: { kind: 'stream-error', afterChunks: 2, message: 'CUDA out of memory' },
      });
      const seen: Seen = { pieces: [] };

      const error = await rejectionOf(w.gateway().chat(dialect, model, 'alpha beta gamma', { stream: true, seen }));
      expect(seen.pieces.join('')).toBe('echo: alpha ');
      if (dialect === 'openai') {
        // An error event in the stream (the status was 200 long before), not a cut connection.
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).status).toBeUndefined();
      } else {
        // The client's iterator throws the {"error"} line; a stream that merely stopped says "Did not receive done".
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).not.toMatch(/did not receive done/i);
      }

      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'failed', attempts: 1, assigned_agent: id, result: null });
      expect(task.error).toContain('CUDA out of memory');
      expect(agent.requests).toHaveLength(1);
    },
  );

  it.each(DIALECT_STREAMS)(
    '%s (stream: %s): a client that goes away cancels its task, and Hive closes its call to the agent',
    async (dialect, stream) => {
      const never = w.gate();
      // Streaming: the first piece reaches the client, the next one would come a minute later.
      const behavior: AgentBehavior = stream
        ? { kind: 'ok', response: 'one two three', chunkDelayMs: 60_000 }
        : { kind: 'ok', gate: never.promise };
      const { agent, model } = await w.serve('abort', { behavior });
      const controller = new AbortController();
      const seen: Seen = { pieces: [] };

      const call = w.inBackground(w.gateway().chat(dialect, model, 'x', { stream, seen, signal: controller.signal }));
      if (stream) {
        await waitUntil(() => seen.pieces.join('') === 'one ', {
          describe: 'the first piece to reach the client',
          state: () => seen.pieces,
        });
      } else {
        await agent.waitForRequests(1);
      }
      controller.abort();
      // The openai client ends a stream its caller aborted quietly, with what had come; the others throw.
      if (dialect === 'openai' && stream) await expect(call).resolves.toBe('one ');
      else await expect(call).rejects.toThrow();

      await agent.waitForAborts(1);
      const [task] = await w.tasksOf(model);
      await expect(w.api().waitForTask(task?.id ?? '', finished)).resolves.toMatchObject({
        status: 'cancelled',
        gateway: dialect,
      });
      expect(agent.requests).toHaveLength(1);
    },
  );

  it('metrics: calls counted by dialect, endpoint, model and outcome; time to first token and queue wait observed', async () => {
    const url = world().hive.url;
    const slot = w.gate();
    const { agent, model } = await w.serve('metrics');
    // The first call holds the only slot until the gate opens; the one after it is left hanging.
    agent.queueBehaviors({ kind: 'ok', gate: slot.promise }, { kind: 'hang' });
    const queueWaits = (samples: readonly Sample[]) =>
      sampleValue(samples, 'hive_gateway_queue_wait_seconds_count', { dialect: 'openai' }) ?? 0;
    const before = parseSamples(await scrape(url));

    // Streamed, so that its first token is timed.
    const completed = w.inBackground(w.gateway().chat('openai', model, 'first', { stream: true }));
    await agent.waitForRequests(1);
    const timedOut = w.gateway().chat('openai', model, 'late', { headers: { 'x-hive-queue-timeout-ms': '300' } });
    await expect(rejectionOf(timedOut)).resolves.toMatchObject({ status: 503, code: 'queue_timeout' });
    slot.open();
    await expect(completed).resolves.toBe('echo: first');
    const controller = new AbortController();
    const closed = w.inBackground(w.gateway().chat('ollama', model, 'gone', { signal: controller.signal }));
    await agent.waitForRequests(2);
    controller.abort();
    await expect(closed).rejects.toThrow();

    // The abort is counted once Hive has seen the connection close.
    const samples = await pollUntil(
      async () => parseSamples(await scrape(url)),
      (now) => requestsCounted(now, model).length === 3,
      { describe: `three series of hive_gateway_requests_total for ${model}` },
    );
    expect(requestsCounted(samples, model)).toEqual([
      { dialect: 'ollama', endpoint: '/api/chat', model, outcome: 'client_closed', value: 1 },
      { dialect: 'openai', endpoint: '/v1/chat/completions', model, outcome: 'completed', value: 1 },
      { dialect: 'openai', endpoint: '/v1/chat/completions', model, outcome: 'queue_timeout', value: 1 },
    ]);
    // Only the completed call sent a token.
    const firstToken = { dialect: 'openai', model };
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_count', firstToken)).toBe(1);
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_sum', firstToken)).toBeGreaterThan(0);
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_count', { dialect: 'ollama', model })).toBe(
      undefined,
    );
    expect(queueWaits(samples) - queueWaits(before)).toBeGreaterThanOrEqual(1);
    const buckets = samples.filter((s) => s.name === 'hive_gateway_queue_wait_seconds_bucket');
    expect(buckets.map((s) => s.labels.dialect)).toContain('openai');
  });
});

/**
 * What the gateway suites share: the official clients pointed at a Hive, and a describe block's world of gates,
 * calls and agents that afterEach ends (test/gateway-queue.e2e-spec.ts, test/gateway-failures.e2e-spec.ts).
 */
import { Ollama } from 'ollama';
import OpenAI, { APIError } from 'openai';
import type { HiveApi, Task } from './api.js';
import type { HiveFixture } from './hive-fixture.js';
import type { AgentBehavior, AgentProtocol, OllamaAgent } from './ollama-agent.js';
import { pollUntil } from './poll.js';
import { createKey } from './test-keys.js';

export type Dialect = 'openai' | 'ollama';

/** Each dialect, streamed and not: the four ways a client calls. */
export const DIALECT_STREAMS: readonly [Dialect, boolean][] = [
  ['openai', false],
  ['openai', true],
  ['ollama', false],
  ['ollama', true],
];

/** What a call let the test see: its answer's headers, and the pieces of text as they arrived. */
export interface Seen {
  headers?: Headers;
  pieces: string[];
}

export interface CallOptions {
  stream?: boolean;
  /** Request headers (x-hive-priority, x-hive-queue-timeout-ms). */
  headers?: Record<string, string>;
  seen?: Seen;
  /** Aborts the call (as a client that goes away). */
  signal?: AbortSignal;
}

/** A promise the test settles: the agent's answer waits for open(). */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** A gate that opens when `open` is called; kept in `gates`, which the suite's afterEach opens if the test did not. */
export function newGate(gates: Gate[]): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  const gate = { promise, open };
  gates.push(gate);
  return gate;
}

/**
 * A stream that failed after some of its pieces went out ends with its dialect's error event: for OpenAI, an
 * APIError from an event in the stream (no status: the 200 was long sent), not a cut connection; for Ollama, the
 * client's iterator throws the {"error"} line (a stream that merely stopped says "Did not receive done").
 */
export function expectStreamErrorEvent(dialect: Dialect, error: unknown): void {
  if (dialect === 'openai') {
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBeUndefined();
  } else {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toMatch(/did not receive done/i);
  }
}

/** The error a call rejects with (a call that answers fails the test). */
export async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
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
export class Gateway {
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
export interface Served {
  agent: OllamaAgent;
  id: string;
  model: string;
}

/** The gates, calls and agents of one describe block's tests, with what afterEach must end. */
export function gatewayWorld(world: () => HiveFixture) {
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
    gate: (): Gate => newGate(gates),
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
    /** A fresh model on one agent with one slot, held by a gated call; resolves once the agent holds it. */
    async busyAgent(name: string): Promise<Served & { slot: Gate; holder: Promise<string> }> {
      const slot = this.gate();
      const served = await this.serve(name);
      served.agent.queueBehaviors({ kind: 'ok', gate: slot.promise });
      const holder = this.inBackground(gateway.chat('openai', served.model, 'holder'));
      await served.agent.waitForRequests(1);
      return { ...served, slot, holder };
    },
    /** The tasks of `model`, newest first. */
    async tasksOf(model: string, status?: Task['status']): Promise<Task[]> {
      const list = await api.listTasks({ model, limit: 100, ...(status === undefined ? {} : { status }) });
      return list.tasks;
    },
  };
}

/** The task ended (Hive records the end just after the client has its answer). */
export const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

/**
 * The agent's mutable state: behaviours, served models, the api key, counters, model memory, the request log and the
 * log of requests their clients aborted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findServed } from './model-catalog.js';
import { ModelMemory } from './model-memory.js';
import type { AgentBehavior, AgentProtocol, AgentRequestRecord, OllamaAgentOptions, TagsBehavior } from './types.js';

export class AgentState {
  readonly protocol: AgentProtocol;
  readonly embeddingDimensions: number;
  behavior: AgentBehavior;
  tagsBehavior: TagsBehavior;
  readonly queued: AgentBehavior[] = [];
  readonly requests: AgentRequestRecord[] = [];
  readonly listeners = new Set<(r: AgentRequestRecord) => void>();
  /** Requests whose client closed the connection before the answer was fully written, in order. */
  readonly aborted: AgentRequestRecord[] = [];
  readonly abortListeners = new Set<(r: AgentRequestRecord) => void>();
  inFlight = 0;
  maxInFlight = 0;
  tagsCalls = 0;
  psCalls = 0;
  modelsCalls = 0;
  showCalls = 0;
  models: string[];
  apiKey: string | undefined;
  memory: ModelMemory;
  /** Aborted by close(): ends the model loads under way. */
  private readonly closing = new AbortController();
  private readonly hungUp = new WeakSet<ServerResponse>();

  constructor(private readonly options: OllamaAgentOptions) {
    this.protocol = options.protocol ?? 'ollama';
    this.embeddingDimensions = options.embeddingDimensions ?? 8;
    this.behavior = this.initialBehavior;
    this.tagsBehavior = options.tagsBehavior ?? 'ok';
    this.models = this.initialModels;
    this.apiKey = options.apiKey;
    this.memory = this.emptyMemory();
  }

  /** Counts an inference request in flight until its response is written or its connection dies. */
  track(res: ServerResponse): void {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.inFlight -= 1;
    };
    res.once('finish', finish); // response fully written
    res.once('close', finish); // or the connection died first (client abort, close(), 'down')
  }

  /**
   * Logs the request in `aborted` if its response closes before it finished: the client went away. A connection the
   * agent itself cut (the 'down' behaviour, `hangUp`) or dropped on close() is no client's abort.
   */
  watchAbort(record: AgentRequestRecord, res: ServerResponse): void {
    const check = (): void => {
      if (res.writableFinished || this.hungUp.has(res) || this.closing.signal.aborted) return;
      this.aborted.push(record);
      for (const listener of [...this.abortListeners]) listener(record);
    };
    // The client may have gone while the body was read, before this record existed.
    if (res.destroyed) check();
    else res.once('close', check);
  }

  /** Marks a connection the agent cuts on purpose, so it is not taken for a client's abort. */
  hangUp(res: ServerResponse): void {
    this.hungUp.add(res);
  }

  /** Logs the request and picks its behaviour, in the same order, so requests[i] got the i-th queued one. */
  take(record: AgentRequestRecord): AgentBehavior {
    this.requests.push(record);
    const behavior = this.queued.shift() ?? this.behavior;
    for (const listener of [...this.listeners]) listener(record);
    return behavior;
  }

  authorized(req: IncomingMessage): boolean {
    return this.apiKey === undefined || req.headers.authorization === `Bearer ${this.apiKey}`;
  }

  /** The served model a request names, by the agent's protocol's rules. */
  served(model: string): string | undefined {
    return findServed(this.models, model, this.protocol);
  }

  setModels(models: readonly string[]): void {
    this.models = [...models];
    this.memory.retain((loaded) => this.served(loaded) !== undefined);
  }

  reset(): void {
    this.requests.length = 0; // in place: callers may hold the array
    this.aborted.length = 0;
    this.queued.length = 0;
    this.maxInFlight = this.inFlight; // requests still running keep counting; inFlight itself stays exact
    this.tagsCalls = 0;
    this.psCalls = 0;
    this.modelsCalls = 0;
    this.showCalls = 0;
    this.behavior = this.initialBehavior;
    this.tagsBehavior = this.options.tagsBehavior ?? 'ok';
    this.models = this.initialModels;
    this.apiKey = this.options.apiKey;
    // A load under way finishes into the old memory, which nothing reads any more.
    this.memory = this.emptyMemory();
  }

  close(): void {
    this.closing.abort();
  }

  private get initialBehavior(): AgentBehavior {
    return this.options.behavior ?? { kind: 'ok' };
  }

  private get initialModels(): string[] {
    return [...(this.options.models ?? ['llama3:8b'])];
  }

  private emptyMemory(): ModelMemory {
    return new ModelMemory(this.options.memory, this.closing.signal);
  }
}

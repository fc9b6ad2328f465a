/** The test agent's public surface: its options, behaviours, request records and handle. */

/** A tool call the model "decides" to make; each protocol sends it in its own shape. */
export interface AgentToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * How the agent answers inference requests (generate, chat, embed, /v1/chat/completions, /v1/embeddings), in the
 * protocol of the route asked. `gate`: the answer waits until it settles, so a test decides exactly when the agent
 * answers. Only `ok` and `stream-error` reach the model (404 for a model not served, then model memory).
 */
export type AgentBehavior =
  | {
      kind: 'ok';
      delayMs?: number;
      response?: string;
      gate?: Promise<unknown>;
      /** Pause between streamed pieces. */
      chunkDelayMs?: number;
      /** A chat answers with these calls (and no text) instead. */
      toolCalls?: AgentToolCall[];
    }
  | { kind: 'error'; status: number; message: string; delayMs?: number; gate?: Promise<unknown> }
  | { kind: 'busy' }
  | { kind: 'model-not-found' }
  /** 429 with `retry-after` (default 1 s). */
  | { kind: 'rate-limited'; retryAfterS?: number }
  /** A stream breaks with `message` after `afterChunks` pieces; a non-streaming request gets a 500. */
  | { kind: 'stream-error'; afterChunks: number; message: string }
  | { kind: 'hang' }
  /** 200 with truncated JSON. */
  | { kind: 'malformed' }
  /** 200 with valid JSON that is not the route's answer. */
  | { kind: 'wrong-shape' }
  /** The connection is reset (RST), as with a crashed machine. */
  | { kind: 'down' };

/** How the model-listing probes answer: GET /api/tags, GET /api/ps and GET /v1/models. */
export type TagsBehavior = 'ok' | 'error' | 'down' | 'hang';

/** 'ollama': an Ollama server (which also serves OpenAI's /v1 routes); 'openai': a vLLM / llama.cpp server. */
export type AgentProtocol = 'ollama' | 'openai';

/**
 * At most `maxLoaded` models in memory; loading one takes `loadDelayMs`, one load at a time, then the least
 * recently used model beyond `maxLoaded` is evicted.
 */
export interface ModelMemoryOptions {
  maxLoaded: number;
  loadDelayMs: number;
}

export interface OllamaAgentOptions {
  /** Served models; default ['llama3:8b']. */
  models?: string[];
  protocol?: AgentProtocol;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  behavior?: AgentBehavior;
  tagsBehavior?: TagsBehavior;
  /** Without it a model is loaded instantly on its first request and never evicted. */
  memory?: ModelMemoryOptions;
  /** Length of the embedding vectors; default 8. */
  embeddingDimensions?: number;
  port?: number;
}

export type AgentOperation = 'generate' | 'chat' | 'embed';

/** One inference request as received (also those rejected before the behaviour applied). */
export interface AgentRequestRecord {
  model: string;
  /** The generate prompt; '' for chat and embed. */
  prompt: string;
  system?: string;
  options?: Record<string, unknown>;
  stream?: boolean;
  receivedAt: number;
  body: unknown;
  path: string;
  operation: AgentOperation;
  messages?: unknown[];
  /** The raw Authorization header. */
  authorization?: string;
}

/** The record's name from when the agent only served /api/generate. */
export type GenerateRequestRecord = AgentRequestRecord;

export interface OllamaAgent {
  readonly url: string;
  readonly protocol: AgentProtocol;
  /** Every inference request, in arrival order; reset() empties it in place. */
  readonly requests: AgentRequestRecord[];
  /**
   * The requests whose client closed the connection before the agent finished answering (a client abort), in order;
   * not those the agent cut itself ('down', close()). reset() empties it in place.
   */
  readonly aborted: AgentRequestRecord[];
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly tagsCalls: number;
  readonly psCalls: number;
  readonly modelsCalls: number;
  /** POST /api/show calls (Ollama protocol): not inference, so not in `requests`. */
  readonly showCalls: number;
  /** Model loads started so far. */
  readonly loads: number;
  /** The models in memory now, most recently used first. */
  readonly loadedModels: string[];
  setBehavior(b: AgentBehavior): void;
  /** Behaviours for the next requests, one each, before falling back to the default one. */
  queueBehaviors(...b: AgentBehavior[]): void;
  setTagsBehavior(b: TagsBehavior): void;
  /** The served models change: the agent drops a model (unloading it) or gains one. */
  setModels(models: string[]): void;
  setApiKey(key?: string): void;
  onRequest(listener: (r: AgentRequestRecord) => void): () => void;
  /** Resolves once `requests` holds n records (any inference route). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `aborted` holds n records. */
  waitForAborts(n: number, timeoutMs?: number): Promise<void>;
  /** Back to the options given at start: behaviours, models, api key, counters, an empty memory. */
  reset(): void;
  close(): Promise<void>;
}

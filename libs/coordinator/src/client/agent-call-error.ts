/**
 * Why a call to an agent failed; decides whether the task is retried, whether the agent is to blame, and whether
 * the caller is. Each protocol adapter says which kind an answer means (protocols/<kind>/*-errors.ts).
 */
export type AgentFailureKind =
  | 'timeout' // the task's timeout passed
  | 'connection' // refused, reset, DNS, connect timeout
  | 'busy' // the server's queue is full (Ollama's 503 "server busy", an OpenAI server's 503)
  | 'rate_limited' // 429: the server asks to come back later (Retry-After)
  | 'server_error' // other 5xx, or an error in the middle of a streamed answer
  | 'auth' // the agent refused Hive's key for it (401/403)
  | 'local' // this replica cannot call the agent as registered (its key does not decrypt here, an unknown kind)
  | 'model_missing' // the agent does not serve the model: the task goes to another agent that does
  | 'client_error' // 4xx such as a bad request: the caller's fault, retrying will not help
  | 'malformed' // 2xx whose body is not the protocol's answer
  | 'cancelled' // the task was cancelled
  | 'shutdown'; // this replica is stopping; the task goes back to the queue

const RETRYABLE: ReadonlySet<AgentFailureKind> = new Set([
  'timeout',
  'connection',
  'busy',
  'rate_limited',
  'server_error',
  'auth',
  'local',
  'malformed',
]);
const AGENT_FAULT: ReadonlySet<AgentFailureKind> = new Set([
  'timeout',
  'connection',
  'server_error',
  'auth',
  'malformed',
]);

export class AgentCallError extends Error {
  constructor(
    readonly kind: AgentFailureKind,
    message: string,
    readonly status?: number,
    /** How long the agent asked to wait before another call (its Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  /** Counts towards AGENT_MAX_FAILURES (a busy agent is alive, a wrong model name is not the server's fault). */
  get agentFault(): boolean {
    return AGENT_FAULT.has(this.kind);
  }
}

/** The reasons Hive aborts a call with; the AbortSignal's reason says which. */
export class AbortReason {
  constructor(
    readonly kind: 'timeout' | 'cancelled' | 'shutdown' | 'lost',
    readonly message: string,
  ) {}
}

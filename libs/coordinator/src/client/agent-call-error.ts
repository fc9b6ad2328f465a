/** Why a call to an agent failed; decides whether the task is retried and whether the agent is to blame. */
export type AgentFailureKind =
  | 'timeout' // the task's timeout passed
  | 'connection' // refused, reset, DNS, connect timeout
  | 'busy' // Ollama's 503 "server busy"
  | 'server_error' // other 5xx
  | 'client_error' // 4xx such as "model 'x' not found": retrying will not help
  | 'malformed' // 2xx whose body is not an Ollama answer
  | 'cancelled' // the task was cancelled
  | 'shutdown'; // this replica is stopping; the task goes back to the queue

const RETRYABLE: ReadonlySet<AgentFailureKind> = new Set([
  'timeout',
  'connection',
  'busy',
  'server_error',
  'malformed',
]);
const AGENT_FAULT: ReadonlySet<AgentFailureKind> = new Set(['timeout', 'connection', 'server_error', 'malformed']);

export class AgentCallError extends Error {
  constructor(
    readonly kind: AgentFailureKind,
    message: string,
    readonly status?: number,
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

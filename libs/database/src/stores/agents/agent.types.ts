/** An agent row with its load, counted from the tasks table (the sum over all replicas). */
export interface AgentRecord {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  kind: string;
  max_concurrent: number;
  enabled: boolean;
  /** Set after AGENT_MAX_FAILURES consecutive failures; cleared by the next successful probe. */
  offline: boolean;
  current_tasks: number;
  consecutive_failures: number;
  last_seen: Date | null;
  last_error: string | null;
  created_at: Date;
}

export interface NewAgent {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
  kind: string;
}

export interface AgentChanges {
  endpoint?: string;
  model?: string;
  max_concurrent?: number;
  enabled?: boolean;
}

/** Where to reach an agent, and how many calls its connection pool must allow. */
export interface AgentAddress {
  id: string;
  endpoint: string;
  max_concurrent: number;
}

export type AgentRemoval =
  | { outcome: 'missing' }
  /** It runs tasks and removal was not forced: nothing changed. */
  | { outcome: 'busy'; running: number }
  | { outcome: 'removed'; requeued: number };

export interface FailureRecord {
  consecutiveFailures: number;
  /** This failure took the agent offline. */
  wentOffline: boolean;
}

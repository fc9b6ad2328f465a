/** A model an agent reported loaded in memory (Ollama's /api/ps), and until when it keeps it there. */
export interface LoadedModel {
  name: string;
  expires_at: string;
}

/** An agent row with its load, counted from the tasks table (the sum over all replicas). */
export interface AgentRecord {
  id: string;
  endpoint: string;
  /** Its default model: tasks that name no model run on it. */
  model: string;
  /** The models it serves, as its last probe found them (its default model until the first probe). */
  models: string[];
  /** The models it reported loaded at its last probe. */
  loaded_models: LoadedModel[];
  /** The most models it was seen holding at once; 0 while unknown. */
  loaded_capacity: number;
  /** When Hive last sent it each model (epoch ms), by model. */
  recent_models: Record<string, number>;
  specialty: string;
  kind: string;
  max_concurrent: number;
  enabled: boolean;
  /** Set after AGENT_MAX_FAILURES consecutive failures; cleared by the next successful probe. */
  offline: boolean;
  has_api_key: boolean;
  current_tasks: number;
  consecutive_failures: number;
  last_seen: Date | null;
  last_error: string | null;
  models_probed_at: Date | null;
  /** Until when it asked not to be called (a Retry-After); null when it did not, or that time is past. */
  paused_until: Date | null;
  created_at: Date;
}

export interface NewAgent {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
  kind: string;
  /** The agent's own API key, already encrypted (never stored in clear). */
  api_key_encrypted?: string;
}

export interface AgentChanges {
  endpoint?: string;
  model?: string;
  max_concurrent?: number;
  enabled?: boolean;
  /** A new encrypted key; null removes the key. */
  api_key_encrypted?: string | null;
}

/** Where and how to reach an agent, and how many calls its connection pool must allow. */
export interface AgentAddress {
  id: string;
  endpoint: string;
  kind: string;
  max_concurrent: number;
  api_key_encrypted: string | null;
}

/** What a probe found: the models an agent serves and, when its protocol tells, those loaded now. */
export interface ProbeReport {
  models: string[];
  loaded?: LoadedModel[];
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

/** What a successful probe changed. */
export interface ProbeRecord {
  /** It was offline and is online again. */
  backOnline: boolean;
  /** Its default model is not among those it serves. */
  defaultModelMissing: boolean;
  /** The models it serves are not those it was known to serve. */
  modelsChanged: boolean;
}

import type { LoadedModel } from '../agents/agent.types.js';
import type { GatewayDialect, TaskOperation } from './task.types.js';

/** An agent that may take tasks in this claim: enabled, online, locked for the transaction. */
export interface ClaimableAgent {
  id: string;
  endpoint: string;
  kind: string;
  /** Its default model. */
  model: string;
  models: string[];
  specialty: string;
  max_concurrent: number;
  consecutive_failures: number;
  api_key_encrypted: string | null;
  loaded_models: LoadedModel[];
  loaded_capacity: number;
  recent_models: Record<string, number>;
  /** When a probe last found what it serves (and, for Ollama, what it holds). */
  models_probed_at: Date | null;
}

/** Which pending tasks a claim looks at: those of a type and a model ('' for any specialty, or a default model). */
export interface TaskRoute {
  type: string;
  model: string;
}

/** A due pending task, locked for the claim: what placement needs of it (its payload comes with the claim). */
export interface PendingTask extends TaskRoute {
  id: string;
  operation: TaskOperation;
  priority: number;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  created_at: Date;
  available_at: Date;
  /** The agent that ran the previous attempt, if any: a retry prefers another one. */
  previous_agent: string | null;
}

/** Where a locked task runs: on `agent`, with `model` (the name the agent serves it by). */
export interface Placement {
  task: PendingTask;
  agent: ClaimableAgent;
  model: string;
}

/** A task this replica now runs: in_progress under its lease, on `agent`; `attempts` counts this one. */
export interface ClaimedTask extends PendingTask {
  context: Record<string, unknown>;
  input: Record<string, unknown> | null;
  /** The agent call streams, its pieces relayed to live-events readers. */
  stream: boolean;
  /** The client dialect of a gateway call: once its answer began reaching the client, a failure is not retried. */
  gateway: GatewayDialect | null;
  /** The seq of this attempt's in_progress event: its pieces are numbered after it. */
  event_seq: number;
  agent: ClaimableAgent;
  /** The model it runs with (the name the agent serves it by). */
  runModel: string;
}

/** What the coordinator decides inside a claim transaction, from the agents and their load over all replicas. */
export interface ClaimPlan {
  /** Free slots of the usable agents, over all replicas. */
  readonly freeSlots: number;
  /** How many pending tasks of each route to lock. */
  readonly demand: readonly (TaskRoute & { slots: number })[];
  /**
   * Where the locked tasks run (given in dispatch order; a task left out stays pending), and the recent_models of
   * the agents whose record of what they were sent changed.
   */
  place(tasks: readonly PendingTask[]): { placements: Placement[]; recent: Map<string, Record<string, number>> };
}

/** Builds the plan once the agents are locked and their load (running tasks per agent id) is counted. */
export type ClaimPlanner = (agents: readonly ClaimableAgent[], load: ReadonlyMap<string, number>) => ClaimPlan;

export interface Claim {
  tasks: ClaimedTask[];
  /** Slots the usable agents had free before this claim, over all replicas. */
  freeSlots: number;
  /** Given tasks to store: whether each was stored (not when no registered agent can run it). */
  stored?: readonly boolean[];
}

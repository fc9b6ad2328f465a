/** An agent that may take tasks in this claim: enabled, online, locked for the transaction. */
export interface ClaimableAgent {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
  consecutive_failures: number;
}

/** A due pending task, locked for the claim. */
export interface PendingTask {
  id: string;
  type: string;
  priority: number;
  context: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  created_at: Date;
  available_at: Date;
  /** The agent that ran the previous attempt, if any: a retry prefers another one. */
  previous_agent: string | null;
}

/** A task this replica now runs: in_progress under its lease, on `agent`; `attempts` counts this one. */
export interface ClaimedTask extends PendingTask {
  agent: ClaimableAgent;
}

/** What the coordinator decides inside a claim transaction, from the agents and their load over all replicas. */
export interface ClaimPlan {
  /** Free slots of the usable agents, over all replicas. */
  readonly freeSlots: number;
  /** How many pending tasks of each type to lock. */
  readonly demand: ReadonlyMap<string, number>;
  /** The agent to run a locked task, or undefined to leave it pending. Called in dispatch order. */
  place(task: PendingTask): ClaimableAgent | undefined;
}

/** Builds the plan once the agents are locked and their load (running tasks per agent id) is counted. */
export type ClaimPlanner = (agents: readonly ClaimableAgent[], load: ReadonlyMap<string, number>) => ClaimPlan;

export interface Claim {
  tasks: ClaimedTask[];
  /** Slots the usable agents had free before this claim, over all replicas. */
  freeSlots: number;
}

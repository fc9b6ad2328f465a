export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type FinalTaskStatus = Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>;

/** A task as the API reports it. */
export interface TaskView {
  id: string;
  type: string;
  priority: number;
  status: TaskStatus;
  context: Record<string, unknown>;
  assigned_agent: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

/** What a submission answers: the stored task before any agent has seen it. */
export type SubmittedTask = Pick<TaskView, 'id' | 'type' | 'priority' | 'status' | 'context' | 'created_at'>;

export interface NewTask {
  type: string;
  priority: number;
  context: Record<string, unknown>;
  max_attempts: number;
  timeout_ms?: number;
}

export interface TaskFilter {
  status?: TaskStatus;
  type?: string;
  agent?: string;
  limit: number;
  offset: number;
}

export interface TaskPage {
  tasks: TaskView[];
  /** Every task. */
  total: number;
  /** The tasks matching the filter. */
  filtered: number;
}

export type TaskCounts = Record<TaskStatus, number> & { total: number };

/** Pending tasks of one type (the health report's backlog). */
export interface PendingOfType {
  type: string;
  pending: number;
}

/**
 * A running task as one agent call holds it: the writes of its end land only while this replica holds its lease
 * and the task is still assigned to this agent.
 */
export interface HeldTask {
  taskId: string;
  agentId: string;
  replicaId: string;
}

export interface Completion {
  taskId: string;
  agentId: string;
  result: object;
}

/** A task the lease reaper took back from a replica that stopped renewing it. */
export interface ReapedTask {
  id: string;
  type: string;
  status: 'pending' | 'failed';
}

export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type FinalTaskStatus = Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>;
/** The states a task ends in: it changes no more. */
const FINAL_TASK_STATUSES: readonly FinalTaskStatus[] = ['completed', 'failed', 'cancelled'];
/** A task has ended: it will not change again. */
export const hasEnded = (task: { status: TaskStatus }): task is { status: FinalTaskStatus } =>
  (FINAL_TASK_STATUSES as readonly TaskStatus[]).includes(task.status);

/** The client dialects of the gateway: a task submitted through one of them shows it. */
export const GATEWAY_DIALECTS = ['openai', 'ollama'] as const;
export type GatewayDialect = (typeof GATEWAY_DIALECTS)[number];

/** Whether a task's content (input, answer) is kept once it ended (`full`), or only its metadata. */
export type TaskRetain = 'full' | 'metadata';

/** What an agent is asked to do. */
export const TASK_OPERATIONS = ['generate', 'chat', 'embed'] as const;
export type TaskOperation = (typeof TASK_OPERATIONS)[number];

/** A task as the API reports it. */
export interface TaskView {
  id: string;
  /** The specialty it needs; null: any agent serving its model. */
  type: string | null;
  operation: TaskOperation;
  /** The model it needs; null: the default model of an agent of its type. */
  model: string | null;
  priority: number;
  status: TaskStatus;
  context: Record<string, unknown>;
  /** The operation's input (null: a generate task whose prompt comes from its context). */
  input: Record<string, unknown> | null;
  assigned_agent: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  /** Its agent call streams, and the pieces reach live-events readers. */
  stream: boolean;
  /** Where its webhook goes when it ends. */
  callback_url: string | null;
  /** Its webhook's delivery, once it ended with a callback_url. */
  webhook: WebhookDeliveryState | null;
  /** The client dialect it came through (the gateway); null for a task submitted to the REST API. */
  gateway: GatewayDialect | null;
  /** `metadata`: its input and the text of its answer are forgotten once the call ended. */
  retain: TaskRetain;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** Where a task's webhook delivery stands (times as ISO 8601 text). */
export interface WebhookDeliveryState {
  status: WebhookDeliveryStatus;
  attempts: number;
  /** The HTTP status of the last attempt; null before the first answer, or when none came. */
  last_status: number | null;
  last_error: string | null;
  /** When the next attempt is due, while pending. */
  next_attempt_at: string | null;
  /** When it was delivered or given up. */
  finished_at: string | null;
}

/**
 * One entry of a task's status history: `seq` counts from 1; `status` is the task's state, or `retrying` for a
 * failed attempt that goes back to the queue. The other fields depend on the change.
 */
export interface TaskEvent {
  seq: number;
  status: TaskStatus | 'retrying';
  /** ISO 8601. */
  at: string;
  agent?: string;
  attempt?: number;
  error?: string;
  /** ISO 8601: when a retrying task is due again. */
  retry_at?: string;
  /** Why a task went back to the queue untouched. */
  reason?: string;
}

/** A task with its status history, as live events and waiting requests read it. */
export type TaskWithEvents = TaskView & { events: TaskEvent[] };

/** What a submission answers: the stored task before any agent has seen it. */
export type SubmittedTask = Pick<
  TaskView,
  'id' | 'type' | 'operation' | 'model' | 'priority' | 'status' | 'context' | 'created_at'
>;

export interface NewTask {
  /** The specialty it needs; '' for any. */
  type: string;
  operation: TaskOperation;
  /** The model it needs; '' for the default model of an agent of its type. */
  model: string;
  priority: number;
  context: Record<string, unknown>;
  input?: Record<string, unknown>;
  max_attempts: number;
  timeout_ms?: number;
  stream?: boolean;
  callback_url?: string;
  gateway?: GatewayDialect;
  retain?: TaskRetain;
}

export interface TaskFilter {
  status?: TaskStatus;
  type?: string;
  model?: string;
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

/** Pending tasks of one route (the health report's backlog): a type and a model, '' for none. */
export interface PendingOfRoute {
  type: string;
  model: string;
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

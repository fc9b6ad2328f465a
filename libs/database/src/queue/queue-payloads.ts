/**
 * The LISTEN/NOTIFY channels of the queue and the payloads on them, for both sides (docs/architecture.md,
 * "Wake-ups"). PostgreSQL limits a payload to 8,000 bytes; these stay far below.
 */
export const WAKE_CHANNEL = 'hive_wake';
export const CANCEL_CHANNEL = 'hive_cancel';
/** Tasks whose state changed (a waiting request or a live-events reader re-reads them): comma-separated task ids. */
export const TASK_CHANNEL = 'hive_task';
/** Webhooks were queued: the replicas' senders look for due deliveries. No payload. */
export const WEBHOOK_CHANNEL = 'hive_webhook';
/** Pieces of streamed answers (tasks submitted with stream: true), relayed to every replica (token-payloads.ts). */
export const TOKEN_CHANNEL = 'hive_tokens';

/** Why dispatchers are woken: new tasks only matter when an agent has room; capacity changes always do. */
export type WakeReason = 'task' | 'capacity';

/** A wake for new tasks names the replica that stored them (`task <replica id>`); one for capacity is ''. */
export const wakePayload = (reason: WakeReason, replicaId: string): string =>
  reason === 'task' ? `task ${replicaId}` : '';

/**
 * A wake and the replica that sent it, when it says. Any payload but `task…` may mean changed capacity (older
 * replicas send '' or other text; those before the sender was named send a bare `task`).
 */
export function parseWake(payload: string): { reason: WakeReason; from?: string } {
  if (payload === 'task') return { reason: 'task' };
  return payload.startsWith('task ') ? { reason: 'task', from: payload.slice(5) } : { reason: 'capacity' };
}

/** A hive_cancel payload is a task id, or `<task id> <agent id>` to abort only the call on that agent. */
const CANCEL_AGENT_SEPARATOR = ' ';

export const cancelSuffix = (agentId: string | undefined): string =>
  agentId === undefined ? '' : `${CANCEL_AGENT_SEPARATOR}${agentId}`;

export interface CancelNotice {
  taskId: string;
  /** Only the call on this agent (the agent was force-removed and the task requeued), else every call. */
  agentId?: string;
}

export function parseCancel(payload: string): CancelNotice {
  const [taskId = '', agentId] = payload.split(CANCEL_AGENT_SEPARATOR);
  return agentId === undefined ? { taskId } : { taskId, agentId };
}

/** The task ids of a hive_task notice. */
export const parseTaskIds = (payload: string): string[] => payload.split(',').filter((id) => id !== '');

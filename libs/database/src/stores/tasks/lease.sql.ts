/**
 * The SQL of the lease, written once (docs/architecture.md, "Leases and the reaper"). Every write of a running task's
 * end (completed, failed, retried, released) is guarded by `held`, so it lands only while the writing replica still
 * holds the task's lease and the task is still assigned to the calling agent: a task that was cancelled, reaped, or
 * requeued by a force-removed agent and claimed again elsewhere never takes the old call's end.
 */

/** SQL expressions naming one agent call: the task, the agent that runs it, the replica that leased it. */
export interface CallColumns {
  task: string;
  agent: string;
  replica: string;
}

/** The call of statements whose parameters are $1 task id, $2 agent id, $3 replica id. */
export const CALL_PARAMS: CallColumns = { task: '$1', agent: '$2', replica: '$3' };

/** `tasks` row `alias` is still held by the call `call`: running, on its agent, under its replica's lease. */
export const held = (alias: string, call: CallColumns = CALL_PARAMS): string =>
  `${alias}.id = ${call.task} AND ${alias}.assigned_agent = ${call.agent} AND ${alias}.lease_owner = ${call.replica} ` +
  `AND ${alias}.status = 'in_progress'`;

/** Assignment list that ends a lease (every transition out of in_progress). */
export const LEASE_ENDED = 'lease_owner = NULL, lease_expires_at = NULL, updated_at = now()';

/**
 * Assignment list that puts a running task back in the queue with its interrupted attempt not counted (shutdown, a
 * force-removed agent). Its queue wait counts from now, not from its first submission.
 */
export const BACK_TO_QUEUE_UNCOUNTED = `status = 'pending', attempts = greatest(attempts - 1, 0), available_at = now(),
  started_at = NULL, ${LEASE_ENDED}`;

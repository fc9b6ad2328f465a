import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';
import { CompletionWriter } from './completion-writer.js';

/**
 * The row is still this call's: running, under this replica's lease, on this agent ($1 task id, $2 agent id,
 * $3 replica id). A task requeued by a force-deleted agent and claimed again on another never takes the old call's end.
 */
const HELD = `id = $1 AND assigned_agent = $2 AND lease_owner = $3 AND status = 'in_progress'`;

/**
 * A running task back to the queue with its interrupted attempt not counted (shutdown, a force-removed agent). Its
 * queue wait counts from now, not from its first submission.
 */
export const REQUEUE_UNCOUNTED = `status = 'pending', attempts = greatest(attempts - 1, 0), available_at = now(),
  started_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()`;

/**
 * Writes of a running task's end. Each one only applies while this replica still holds the task's lease and the
 * task is still running: a task that was cancelled, or reaped after a lost lease, is never overwritten.
 */
export class TaskOutcomes {
  private readonly completions: CompletionWriter;

  constructor(
    private readonly db: DataSource,
    private readonly replicaId: string,
  ) {
    this.completions = new CompletionWriter(db, replicaId);
  }

  /** Stores the result and marks the agent as seen, clearing its failure count; batched with other results. */
  complete(taskId: string, agentId: string, result: object): Promise<boolean> {
    return this.completions.complete(taskId, agentId, result);
  }

  async fail(taskId: string, agentId: string, error: string): Promise<boolean> {
    return this.finish(
      `UPDATE tasks SET status = 'failed', error = $4, completed_at = now(), lease_owner = NULL,
              lease_expires_at = NULL, updated_at = now()
        WHERE ${HELD} RETURNING id`,
      [taskId, agentId, this.replicaId, error],
    );
  }

  /** Back to the queue after a failed attempt, not before `delayMs`. */
  async retry(taskId: string, agentId: string, error: string, delayMs: number): Promise<boolean> {
    return this.finish(
      `UPDATE tasks SET status = 'pending', error = $4, available_at = now() + $5 * interval '1 millisecond',
              started_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE ${HELD} RETURNING id`,
      [taskId, agentId, this.replicaId, error, delayMs],
    );
  }

  /**
   * Gives a task back untouched (shutdown): the interrupted attempt does not count. The dispatcher then wakes the
   * other replicas.
   */
  async release(taskId: string, agentId: string): Promise<boolean> {
    return this.finish(`UPDATE tasks SET ${REQUEUE_UNCOUNTED} WHERE ${HELD} RETURNING id`, [
      taskId,
      agentId,
      this.replicaId,
    ]);
  }

  /**
   * Extends the leases of the tasks this replica is running; returns those it still holds (a missing one was
   * cancelled or reaped). Only tasks with a call in flight: a row left in_progress without one (its call was
   * aborted) expires and is requeued by the reaper instead of being kept alive forever.
   */
  async renewLeases(taskIds: string[], leaseMs: number): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      // Locked in id order, as completions lock them: the two never deadlock.
      `WITH mine AS MATERIALIZED (
         SELECT id FROM tasks WHERE id = ANY($1) AND status = 'in_progress' AND lease_owner = $2
          ORDER BY id FOR UPDATE
       )
       UPDATE tasks t SET lease_expires_at = now() + $3 * interval '1 millisecond'
         FROM mine WHERE t.id = mine.id RETURNING t.id`,
      [taskIds, this.replicaId, leaseMs],
    );
    return new Set(rows.map((r) => r.id));
  }

  private async finish(sql: string, params: unknown[]): Promise<boolean> {
    const rows = await queryRows(this.db, sql, params);
    return rows.length === 1;
  }
}

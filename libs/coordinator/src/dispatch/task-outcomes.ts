import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';
import { CompletionWriter } from './completion-writer.js';

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

  async fail(taskId: string, error: string): Promise<boolean> {
    return this.finish(
      `UPDATE tasks SET status = 'failed', error = $2, completed_at = now(), lease_owner = NULL,
              lease_expires_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'in_progress' AND lease_owner = $3 RETURNING id`,
      [taskId, error, this.replicaId],
    );
  }

  /** Back to the queue after a failed attempt, not before `delayMs`. */
  async retry(taskId: string, error: string, delayMs: number): Promise<boolean> {
    return this.finish(
      `UPDATE tasks SET status = 'pending', error = $2, available_at = now() + $4 * interval '1 millisecond',
              started_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'in_progress' AND lease_owner = $3 RETURNING id`,
      [taskId, error, this.replicaId, delayMs],
    );
  }

  /** Gives tasks back untouched (shutdown): the interrupted attempt does not count. */
  async release(taskIds: string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    const rows = await queryRows(
      this.db,
      `UPDATE tasks SET status = 'pending', attempts = greatest(attempts - 1, 0), started_at = NULL,
              lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = ANY($1) AND status = 'in_progress' AND lease_owner = $2 RETURNING id`,
      [taskIds, this.replicaId],
    );
    if (rows.length > 0) await this.db.query(`SELECT pg_notify('hive_wake', '')`);
    return rows.length;
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

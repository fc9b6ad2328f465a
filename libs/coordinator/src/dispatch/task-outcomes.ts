import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';

/**
 * Writes of a running task's end. Each one only applies while this replica still holds the task's lease and the
 * task is still running: a task that was cancelled, or reaped after a lost lease, is never overwritten.
 */
export class TaskOutcomes {
  constructor(
    private readonly db: DataSource,
    private readonly replicaId: string,
  ) {}

  /** Stores the result and, in the same round trip, marks the agent as seen and clears its failure count. */
  async complete(taskId: string, agentId: string, result: object): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH done AS (
         UPDATE tasks SET status = 'completed', result = $2, error = NULL, completed_at = now(),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'in_progress' AND lease_owner = $3
         RETURNING id
       ), seen AS (
         UPDATE agents SET consecutive_failures = 0, last_seen = now()
          WHERE id = $4 AND (consecutive_failures > 0 OR last_seen IS NULL OR last_seen < now() - interval '5 seconds')
       )
       SELECT id FROM done`,
      [taskId, JSON.stringify(result), this.replicaId, agentId],
    );
    return rows.length === 1;
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

  /** Extends this replica's leases; returns the ids it still holds (a missing one was cancelled or reaped). */
  async renewLeases(leaseMs: number): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `UPDATE tasks SET lease_expires_at = now() + $2 * interval '1 millisecond'
        WHERE status = 'in_progress' AND lease_owner = $1 RETURNING id`,
      [this.replicaId, leaseMs],
    );
    return new Set(rows.map((r) => r.id));
  }

  private async finish(sql: string, params: unknown[]): Promise<boolean> {
    const rows = await queryRows(this.db, sql, params);
    return rows.length === 1;
  }
}

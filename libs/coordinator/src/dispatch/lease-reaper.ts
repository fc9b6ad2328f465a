import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';

export interface ReapedTask {
  id: string;
  type: string;
  status: 'pending' | 'failed';
}

/**
 * Requeues tasks whose lease expired: their replica died or hung. The lost attempt counts, so a task that
 * keeps killing replicas ends as failed instead of looping.
 */
export async function reapExpiredLeases(db: DataSource, batch = 500): Promise<ReapedTask[]> {
  return queryRows<ReapedTask>(
    db,
    `WITH expired AS (
       SELECT id FROM tasks
        WHERE status = 'in_progress' AND lease_expires_at < now()
        ORDER BY lease_expires_at LIMIT $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE tasks t
        SET status = CASE WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'pending' END,
            completed_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
            error = 'lease expired: replica ' || coalesce(t.lease_owner, '?') || ' stopped renewing it',
            available_at = now(), started_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
       FROM expired
      WHERE t.id = expired.id
     RETURNING t.id, t.type, t.status`,
    [batch],
  );
}

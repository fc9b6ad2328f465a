import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';

interface Completion {
  taskId: string;
  agentId: string;
  result: string;
  settle: (stored: boolean) => void;
  fail: (error: unknown) => void;
}

/** Completions per statement: one short UPDATE, far below what a replica has in flight at once. */
const MAX_BATCH = 256;

/**
 * Stores results. One write is in flight at a time; results that arrive meanwhile go together in the next, so under
 * load one commit records many tasks instead of one each. A task counts as completed only once its write committed.
 * Rows are locked in id order (as lease renewal does), so concurrent writers never deadlock.
 */
export class CompletionWriter {
  private readonly queue: Completion[] = [];
  private writing = false;

  constructor(
    private readonly db: DataSource,
    private readonly replicaId: string,
  ) {}

  /** Resolves true once stored; false if the task was no longer this replica's (cancelled or reaped). */
  complete(taskId: string, agentId: string, result: object): Promise<boolean> {
    return new Promise((settle, fail) => {
      this.queue.push({ taskId, agentId, result: JSON.stringify(result), settle, fail });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.store(batch);
      } catch (error) {
        // One bad row (say, a result PostgreSQL refuses) must not take the others down: write them one by one.
        if (batch.length === 1) batch[0]?.fail(error);
        else for (const one of batch) await this.store([one]).catch((e: unknown) => one.fail(e));
      }
    }
    this.writing = false;
  }

  private async store(batch: Completion[]): Promise<void> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::jsonb[], $3::text[]) AS i(id, result, agent)
       ), mine AS MATERIALIZED (
         SELECT id FROM tasks WHERE id = ANY($1) AND status = 'in_progress' AND lease_owner = $4
          ORDER BY id FOR UPDATE
       ), done AS (
         UPDATE tasks t SET status = 'completed', result = input.result, error = NULL, completed_at = now(),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
           FROM mine JOIN input USING (id)
          WHERE t.id = mine.id
         RETURNING t.id
       ), seen AS MATERIALIZED (
         SELECT id FROM agents
          WHERE id IN (SELECT agent FROM input)
            AND (consecutive_failures > 0 OR last_seen IS NULL OR last_seen < now() - interval '5 seconds')
          ORDER BY id FOR UPDATE
       ), marked AS (
         UPDATE agents a SET consecutive_failures = 0, last_seen = now() FROM seen WHERE a.id = seen.id
       )
       SELECT id FROM done`,
      [batch.map((c) => c.taskId), batch.map((c) => c.result), batch.map((c) => c.agentId), this.replicaId],
    );
    const stored = new Set(rows.map((r) => r.id));
    for (const c of batch) c.settle(stored.has(c.taskId));
  }
}

import type { DataSource } from 'typeorm';
import { queryRows } from '@hive/database';

interface Completion {
  taskId: string;
  agentId: string;
  result: string;
  settle: (stored: boolean) => void;
  fail: (error: unknown) => void;
}

/** Completions per statement at most, so that one UPDATE stays short whatever the agents' capacity. */
const MAX_BATCH = 256;

/**
 * Errors worth writing a batch's rows one by one: the data itself (class 22, e.g. a result PostgreSQL refuses; 23,
 * constraints), one row's fault; or a rollback to resolve a conflict (40, e.g. a deadlock with an agent removal).
 * Anything else (the database unreachable, say) fails the whole batch at once.
 */
function worthRowByRow(error: unknown): boolean {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

/**
 * Stores results. One write is in flight at a time; results that arrive meanwhile go together in the next, so under
 * load one commit records many tasks instead of one each. A task counts as completed only once its write committed.
 * Task rows are locked in id order, as lease renewal locks them, and before the agents' rows.
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
        if (batch.length > 1 && worthRowByRow(error)) {
          for (const one of batch) await this.store([one]).catch((e: unknown) => one.fail(e));
        } else {
          for (const one of batch) one.fail(error);
        }
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
         SELECT t.id, input.result FROM tasks t JOIN input ON t.id = input.id AND t.assigned_agent = input.agent
          WHERE t.status = 'in_progress' AND t.lease_owner = $4
          ORDER BY t.id FOR UPDATE OF t
       ), done AS (
         UPDATE tasks t SET status = 'completed', result = mine.result, error = NULL, completed_at = now(),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
           FROM mine
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

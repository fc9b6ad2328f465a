import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { describeError, queryRows } from '@hive/database';

const SWEEP_EVERY_MS = 60 * 60_000;
const FIRST_SWEEP_AFTER_MS = 60_000;
const BATCH = 1_000;

/**
 * Deletes finished tasks older than TASK_RETENTION_DAYS, in small batches so that no sweep holds locks or bloats
 * a transaction. Replicas may sweep at the same time: SKIP LOCKED keeps them off each other's rows.
 */
@Injectable()
export class TaskRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskRetention');
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    private readonly db: DataSource,
    private readonly config: HiveConfig,
  ) {}

  onApplicationBootstrap(): void {
    const sweep = () => void this.sweep();
    this.timers = [setTimeout(sweep, FIRST_SWEEP_AFTER_MS), setInterval(sweep, SWEEP_EVERY_MS)];
    for (const timer of this.timers) timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Returns how many tasks were deleted. */
  async sweep(): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const rows = await queryRows(
          this.db,
          `DELETE FROM tasks WHERE id IN (
             SELECT id FROM tasks
              WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - $1 * interval '1 day'
              LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id`,
          [this.config.coordinator.taskRetentionDays, BATCH],
        );
        deleted += rows.length;
        if (rows.length < BATCH || this.stopping) break;
      }
      if (deleted > 0)
        this.logger.log(
          `Deleted ${deleted} finished task(s) older than ${this.config.coordinator.taskRetentionDays} days`,
        );
    } catch (error) {
      this.logger.warn(`Task retention sweep failed: ${describeError(error)}`);
    }
    return deleted;
  }
}

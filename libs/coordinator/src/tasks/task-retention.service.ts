import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, IdempotencyStore, TaskStore } from '@hive/database';

const SWEEP_EVERY_MS = 60 * 60_000;
const FIRST_SWEEP_AFTER_MS = 60_000;
const BATCH = 1_000;

/**
 * Deletes finished tasks older than TASK_RETENTION_DAYS (their webhook deliveries go with them), and Idempotency-Keys
 * past IDEMPOTENCY_TTL_HOURS, in small batches so that no sweep holds locks or bloats
 * a transaction. Replicas may sweep at the same time: SKIP LOCKED keeps them off each other's rows.
 */
@Injectable()
export class TaskRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskRetention');
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    private readonly store: TaskStore,
    private readonly idempotency: IdempotencyStore,
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
    const days = this.config.coordinator.taskRetentionDays;
    try {
      for (;;) {
        const count = await this.store.sweepFinished(days, BATCH);
        deleted += count;
        if (count < BATCH || this.stopping) break;
      }
      if (deleted > 0) this.logger.log({ deleted }, `Deleted ${deleted} finished task(s) older than ${days} days`);
      while ((await this.idempotency.sweepExpired(BATCH)) === BATCH && !this.stopping);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, `Task retention sweep failed: ${describeError(error)}`);
    }
    return deleted;
  }
}

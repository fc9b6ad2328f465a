import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, IdempotencyStore, TaskStore } from '@hive/database';

const SWEEP_EVERY_MS = 60 * 60_000;
const FIRST_SWEEP_AFTER_MS = 60_000;
const BATCH = 1_000;
/** Gateway calls kept as metadata only whose content outlived them (their replica stopped): forgotten this often, */
const FORGET_EVERY_MS = 60_000;
/** ... once they ended this long ago (the replica that ran the call forgets it at once). */
const FORGET_AFTER_S = 60;

/**
 * Deletes finished tasks older than TASK_RETENTION_DAYS (their webhook deliveries go with them), and Idempotency-Keys
 * past IDEMPOTENCY_TTL_HOURS; forgets the content of ended gateway calls kept as metadata only that outlived them, in small batches so that no sweep holds locks or bloats
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
    const forget = () => void this.forgetLeftContent();
    this.timers = [
      setTimeout(sweep, FIRST_SWEEP_AFTER_MS),
      setInterval(sweep, SWEEP_EVERY_MS),
      setInterval(forget, FORGET_EVERY_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Returns how many tasks' content was forgotten. */
  async forgetLeftContent(): Promise<number> {
    let forgotten = 0;
    try {
      for (;;) {
        const count = await this.store.forgetLeftContent(FORGET_AFTER_S, BATCH);
        forgotten += count;
        if (count < BATCH || this.stopping) break;
      }
      if (forgotten > 0) this.logger.log({ forgotten }, `Forgot the content of ${forgotten} ended gateway call(s)`);
    } catch (error) {
      this.logger.warn(
        { err: describeError(error) },
        `Forgetting ended calls' content failed: ${describeError(error)}`,
      );
    }
    return forgotten;
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

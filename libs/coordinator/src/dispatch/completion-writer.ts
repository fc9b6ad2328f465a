import { Injectable, Logger } from '@nestjs/common';
import { describeError, isDatabaseUnavailable, isRowFault, TaskStore, type Completion } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { RunningCalls } from './running-calls.js';
import { outagePause } from './write-while-held.js';

interface PendingCompletion extends Completion {
  settle: (stored: boolean) => void;
  fail: (error: unknown) => void;
}

/** Completions per statement at most, so that one UPDATE stays short whatever the agents' capacity. */
const MAX_BATCH = 256;

/**
 * Stores results (docs/architecture.md, "The task lifecycle"). One write is in flight at a time; results that arrive
 * meanwhile go together in the next, so under load one commit records many tasks. While the database is unreachable
 * the results are kept and written again after a pause, for as long as each task's lease holds: a database restart
 * re-runs nothing. A task counts as completed only once its write committed.
 */
@Injectable()
export class CompletionWriter {
  private readonly logger = new Logger('CompletionWriter');
  private queue: PendingCompletion[] = [];
  private writing = false;
  private outageAttempts = 0;

  constructor(
    private readonly store: TaskStore,
    private readonly state: CoordinatorState,
    private readonly calls: RunningCalls,
  ) {}

  /** Resolves true once stored; false if the task was no longer this call's (cancelled, reaped or reassigned). */
  complete(completion: Completion): Promise<boolean> {
    return new Promise((settle, fail) => {
      this.queue.push({ ...completion, settle, fail });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.write(batch);
      } catch (error) {
        if (isDatabaseUnavailable(error)) await this.keepForLater(batch, error);
        else if (batch.length > 1 && isRowFault(error)) {
          for (const one of batch) await this.write([one]).catch((e: unknown) => one.fail(e));
        } else for (const one of batch) one.fail(error);
      }
    }
    // Nothing left to retry (every lease ran out): the next outage is a new one, warned about and paced afresh.
    this.outageAttempts = 0;
    this.writing = false;
  }

  private async write(batch: PendingCompletion[]): Promise<void> {
    const stored = await this.store.completeBatch(this.state.replicaId, batch);
    if (this.outageAttempts > 0) {
      this.logger.log({ attempts: this.outageAttempts }, 'Storing results works again');
      this.outageAttempts = 0;
    }
    for (const c of batch) c.settle(stored.has(c.taskId));
  }

  /** Puts back the results whose lease still holds past the pause, fails the others, and waits out the pause. */
  private async keepForLater(batch: PendingCompletion[], error: unknown): Promise<void> {
    this.outageAttempts += 1;
    const pause = outagePause(this.outageAttempts);
    const retryAt = Date.now() + pause;
    const kept = batch.filter((c) => this.calls.retryWritesUntil(c.taskId, c.agentId) > retryAt);
    for (const c of batch) if (!kept.includes(c)) c.fail(error);
    if (this.outageAttempts === 1) {
      this.logger.warn(
        { results: kept.length, err: describeError(error) },
        `Storing ${kept.length} result(s) failed, the database is unreachable (${describeError(error)}); ` +
          'retrying while their leases hold',
      );
    }
    this.queue = [...kept, ...this.queue];
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

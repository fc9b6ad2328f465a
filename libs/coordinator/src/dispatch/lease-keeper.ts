import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, TaskStore } from '@hive/database';
import { AbortReason } from '../client/agent-call-error.js';
import { CoordinatorState } from '../coordinator-state.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import { QueueAnnouncer } from './queue-announcer.js';
import { RunningCalls } from './running-calls.js';

/**
 * The leases (docs/architecture.md, "Leases and the reaper"): this replica renews the leases of its calls every third
 * of TASK_LEASE_MS and aborts a call whose lease is gone (cancelled, or reaped); every half lease it requeues the
 * tasks whose lease expired anywhere (their replica died or hung).
 */
@Injectable()
export class LeaseKeeper {
  private readonly logger = new Logger('LeaseKeeper');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly store: TaskStore,
    private readonly config: HiveConfig,
    private readonly state: CoordinatorState,
    private readonly calls: RunningCalls,
    private readonly metrics: CoordinatorMetrics,
    private readonly announcer: QueueAnnouncer,
  ) {}

  start(): void {
    const { taskLeaseMs } = this.config.coordinator;
    this.timers = [
      setInterval(() => void this.renew(), Math.max(250, Math.floor(taskLeaseMs / 3))),
      setInterval(() => void this.reap(), Math.max(500, Math.floor(taskLeaseMs / 2))),
    ];
    for (const timer of this.timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /**
   * Extends the leases of the calls in flight (their outcome not yet stored) and aborts those no longer held. A
   * row left in_progress without a call (its outcome could not be written) expires and is requeued by the reaper.
   */
  async renew(): Promise<void> {
    // Only calls whose claim committed before the renewal began: one committed after its snapshot would look lost.
    const calls = this.calls.all().filter((call) => call.stored);
    if (calls.length === 0) return;
    const { taskLeaseMs } = this.config.coordinator;
    const before = Date.now();
    try {
      const held = await this.store.renewLeases(
        this.state.replicaId,
        calls.map((c) => c.taskId),
        taskLeaseMs,
      );
      for (const call of calls) {
        if (held.has(call.taskId)) call.leaseUntil = before + taskLeaseMs;
        else call.controller.abort(new AbortReason('lost', 'the task is no longer held by this replica'));
      }
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, `Renewing task leases failed: ${describeError(error)}`);
    }
  }

  /** Requeues expired leases and wakes every replica for them. */
  async reap(): Promise<void> {
    try {
      const reaped = await this.store.reap();
      if (reaped.length === 0) return;
      this.metrics.leasesExpired(reaped.length);
      for (const task of reaped.filter((t) => t.status === 'failed')) this.metrics.taskFinished(task.type, 'failed');
      this.logger.warn({ taskIds: reaped.map((t) => t.id) }, `Requeued ${reaped.length} task(s) whose lease expired`);
      this.announcer.announce('capacity');
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, `Reaping expired leases failed: ${describeError(error)}`);
    }
  }
}

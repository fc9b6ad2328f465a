import { Injectable } from '@nestjs/common';
import type { AbortReason } from '../client/agent-call-error.js';

/** One agent call this replica has in flight, from its claim until its outcome is stored. */
export interface RunningCall {
  readonly taskId: string;
  readonly agentId: string;
  readonly controller: AbortController;
  /** Until when this replica surely holds the task's lease (local clock), as of the last claim or renewal. */
  leaseUntil: number;
  /** Its task is stored as this replica's (false while the claim that began it has not committed yet). */
  stored: boolean;
  /** Settles once the call has ended and its outcome is stored (or given up). */
  done: Promise<void>;
}

/**
 * The agent calls in flight on this replica. Not keyed by task id: a task requeued by a force-removed agent can be
 * claimed again here (on another agent) while its first call is still being aborted.
 */
@Injectable()
export class RunningCalls {
  private readonly calls = new Set<RunningCall>();
  /** No write is retried past this (the end of the shutdown drain): a stopping replica must not wait on a lease. */
  private writesUntil = Infinity;

  get size(): number {
    return this.calls.size;
  }

  add(call: RunningCall): void {
    this.calls.add(call);
  }

  delete(call: RunningCall): void {
    this.calls.delete(call);
  }

  /** Whether this replica has a call of the task in flight. */
  has(taskId: string): boolean {
    for (const call of this.calls) if (call.taskId === taskId) return true;
    return false;
  }

  /** A snapshot: calls added later are not in it. */
  all(): RunningCall[] {
    return [...this.calls];
  }

  /** Aborts a task's calls (only its call on `agentId`, when given). */
  abort(taskId: string, reason: AbortReason, agentId?: string): void {
    for (const call of this.calls) {
      if (call.taskId === taskId && (agentId === undefined || call.agentId === agentId)) call.controller.abort(reason);
    }
  }

  /**
   * Until when a write of the end of this task's call on `agentId` may be tried again: while its lease surely holds,
   * and not past the shutdown deadline; 0 when there is no such call.
   */
  retryWritesUntil(taskId: string, agentId: string): number {
    for (const call of this.calls) {
      if (call.taskId === taskId && call.agentId === agentId) return Math.min(call.leaseUntil, this.writesUntil);
    }
    return 0;
  }

  /** From `deadline` on, writes are no longer retried (the replica is shutting down). */
  stopRetryingWritesAt(deadline: number): void {
    this.writesUntil = deadline;
  }
}

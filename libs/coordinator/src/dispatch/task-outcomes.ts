import { Injectable } from '@nestjs/common';
import { TaskStore, type HeldTask } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { CompletionWriter } from './completion-writer.js';
import { RunningCalls } from './running-calls.js';
import { writeWhileHeld } from './write-while-held.js';

/** The agent call whose end is written: a task on one agent. */
export interface CallRef {
  taskId: string;
  agentId: string;
}

/**
 * Writes of a running task's end. Each lands only while this replica still holds the task's lease and the task is
 * still on this agent (the store guards it), and is written again through a short database outage while the lease
 * holds. Each resolves false when the task was no longer this call's: cancelled, reaped or reassigned.
 */
@Injectable()
export class TaskOutcomes {
  constructor(
    private readonly store: TaskStore,
    private readonly state: CoordinatorState,
    private readonly completions: CompletionWriter,
    private readonly calls: RunningCalls,
  ) {}

  /** Stores the result and marks the agent as seen, clearing its failure count; batched with other results. */
  complete(call: CallRef, result: object): Promise<boolean> {
    return this.completions.complete({ ...call, result });
  }

  fail(call: CallRef, error: string): Promise<boolean> {
    return this.whileHeld(call, (held) => this.store.fail(held, error));
  }

  /** Back to the queue after a failed attempt, not before `delayMs`. */
  retry(call: CallRef, error: string, delayMs: number): Promise<boolean> {
    return this.whileHeld(call, (held) => this.store.retry(held, error, delayMs));
  }

  /** After the agent said it does not serve the model: to another agent at once, or failed (the new status). */
  reroute(call: CallRef, error: string): Promise<'pending' | 'failed' | undefined> {
    return this.whileHeld(call, (held) => this.store.reroute(held, error));
  }

  /**
   * Gives a task back untouched (shutdown): the interrupted attempt does not count. Tried once: a replica that is
   * stopping does not wait for the database; the lease then expires and another replica requeues the task.
   */
  release(call: CallRef): Promise<boolean> {
    return this.store.release({ ...call, replicaId: this.state.replicaId });
  }

  private whileHeld<T>(call: CallRef, write: (held: HeldTask) => Promise<T>): Promise<T> {
    const held = { ...call, replicaId: this.state.replicaId };
    return writeWhileHeld(
      () => write(held),
      () => this.calls.retryWritesUntil(call.taskId, call.agentId),
    );
  }
}

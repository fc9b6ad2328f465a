import { Injectable } from '@nestjs/common';
import type { TaskResult } from '../operations/operation-types.js';

/** What the replica running a gateway call tells the request waiting for it on the same replica. */
export interface LocalCallWatcher {
  /** An attempt began on `agentId`; `seq` is its in_progress event's (its pieces carry it). */
  started(agentId: string, seq: number): void;
  /** The agent answered; the result is written to the task after this. */
  answered(result: TaskResult): void;
  /** This replica is stopping and handed the task back to the queue unfinished. */
  released(): void;
  /** The attempt is over here, whatever its outcome (it was written first). */
  ended(): void;
}

/**
 * The short way from a task's run to a gateway request on the same replica: the answer reaches the client as soon
 * as the agent gave it, not a commit, a notice and a read later (docs/architecture.md, "The gateway"). A call
 * followed from another replica hears the same through the task feed.
 */
@Injectable()
export class LocalCalls {
  private readonly watchers = new Map<string, LocalCallWatcher>();

  /** Watches a task until the returned function is called. */
  watch(taskId: string, watcher: LocalCallWatcher): () => void {
    this.watchers.set(taskId, watcher);
    return () => {
      if (this.watchers.get(taskId) === watcher) this.watchers.delete(taskId);
    };
  }

  started(taskId: string, agentId: string, seq: number): void {
    this.watchers.get(taskId)?.started(agentId, seq);
  }

  answered(taskId: string, result: TaskResult): void {
    this.watchers.get(taskId)?.answered(result);
  }

  released(taskId: string): void {
    this.watchers.get(taskId)?.released();
  }

  ended(taskId: string): void {
    this.watchers.get(taskId)?.ended();
  }
}

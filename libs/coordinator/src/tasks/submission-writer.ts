import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isRowFault, TaskStore, type NewTask, type SubmittedTask } from '@hive/database';
import { outsideRequests } from '../outside-requests.js';

interface PendingSubmission {
  task: NewTask;
  id: string;
  settle: (stored: SubmittedTask | undefined) => void;
  fail: (error: unknown) => void;
}

/** Submissions per statement at most: one INSERT stays short, and created_at keeps its order (1 µs a position). */
const MAX_BATCH = 256;
/** Statements in flight at most: while one waits for its commit (an fsync), the next can go. */
const MAX_IN_FLIGHT = 2;

/**
 * Stores single submissions (POST /api/tasks). At most MAX_IN_FLIGHT statements are in flight: a submission that
 * finds room is stored at once, alone; those that arrive while none has room go together in the next statement,
 * each stored or refused on its own. Within a statement, created_at follows their order of arrival; two statements
 * in flight may commit in either order, as two requests to two replicas would. Under load one commit (and one plan,
 * one round trip) serves many requests instead of one each; an idle Hive answers as fast as before. Each request is
 * answered only once its row is committed.
 */
@Injectable()
export class SubmissionWriter {
  private queue: PendingSubmission[] = [];
  private writing = 0;
  private readonly detached = outsideRequests();

  constructor(private readonly store: TaskStore) {}

  /**
   * The stored task, or undefined when no registered agent serves its type (nothing stored). `id` is given by a
   * caller that follows the task before it is stored.
   */
  submit(task: NewTask, id: string = randomUUID()): Promise<SubmittedTask | undefined> {
    return new Promise((settle, fail) => {
      this.queue.push({ task, id, settle, fail });
      if (this.writing < MAX_IN_FLIGHT) void this.detached(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    this.writing += 1;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.write(batch);
      } catch (error) {
        // One faulty row (a value PostgreSQL refuses, say) must not fail the requests it arrived with.
        if (batch.length > 1 && isRowFault(error)) {
          for (const one of batch) await this.write([one]).catch((e: unknown) => one.fail(e));
        } else for (const one of batch) one.fail(error);
      }
    }
    this.writing -= 1;
  }

  private async write(batch: PendingSubmission[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      // A statement of its own: the single-row INSERT is the cheaper one to run.
      only.settle(await this.store.submit(only.task, only.id));
      return;
    }
    const stored = await this.store.submitEach(
      batch.map((one) => one.task),
      batch.map((one) => one.id),
    );
    batch.forEach((one, i) => one.settle(stored[i]));
  }
}

import { Injectable } from '@nestjs/common';
import { hasEnded, type TaskEvent, type TaskWithEvents, type TokenPiece } from '@hive/database';
import { TaskNotFoundError } from '../errors/coordinator-errors.js';
import { TaskFeed } from './task-feed.service.js';
import { isNoOlder } from './task-waiting.service.js';

/**
 * Event ids: a status event's is its seq × ID_STEP, a token's the seq of its attempt's in_progress event × ID_STEP
 * plus its number. Ids grow with each event of a task, and the next status event's id is above every token of the
 * attempt before it.
 */
export const ID_STEP = 1_000_000_000;
/** Pieces that arrive before the status event of their attempt is known here, kept at most. */
const MAX_EARLY_PIECES = 10_000;

/** One event of a task's live stream. */
export type LiveEvent =
  | { id: number; event: 'status'; data: TaskEvent & { result?: unknown } }
  | { id: number; event: 'token'; data: Record<string, unknown> };

/** Where a reader's events go; it never blocks (a slow reader's sink buffers, bounded, or drops the reader). */
export interface LiveEventSink {
  send(event: LiveEvent): void;
  /** The task ended: its final event was sent. */
  end(): void;
}

/** The status events of a task, with the result on its completed event. */
function statusEvents(task: TaskWithEvents): LiveEvent[] {
  const events = task.events.length > 0 ? task.events : [legacyEvent(task)];
  return events.map((event) => ({
    id: event.seq * ID_STEP,
    event: 'status',
    data: event.status === 'completed' ? { ...event, result: task.result } : event,
  }));
}

/** A task stored before histories were kept has one event: its state now, seq 0. */
const legacyEvent = (task: TaskWithEvents): TaskEvent => ({
  seq: 0,
  status: task.status,
  at: (task.completed_at ?? task.started_at ?? task.created_at).toISOString(),
});

/**
 * A task's live events for one reader (docs/architecture.md, "Live events"): what it missed of the status events
 * (after `afterId`, from the task's history), then each change as it is committed and each piece of a streamed
 * answer as the agent produces it, whichever replica runs the task. Pieces are not stored: a reader that reconnects
 * mid-answer gets the pieces from then on, and the whole answer with the completed event.
 */
class TaskFollower {
  private sentId: number;
  /** The seq of the in_progress event of the attempt under way, as far as this reader knows. */
  private attemptSeq: number | undefined;
  private early: TokenPiece[] = [];
  private ended = false;
  /** The newest read of the task so far (two reads may arrive out of order). */
  private newest: TaskWithEvents | undefined;

  constructor(
    private readonly sink: LiveEventSink,
    afterId: number | undefined,
  ) {
    this.sentId = afterId ?? -1;
  }

  get done(): boolean {
    return this.ended;
  }

  task(task: TaskWithEvents): void {
    if (this.ended || !isNoOlder(task, this.newest)) return;
    this.newest = task;
    for (const event of statusEvents(task)) this.send(event);
    const last = task.events.at(-1);
    this.attemptSeq = last?.status === 'in_progress' ? last.seq : undefined;
    if (hasEnded(task)) {
      this.ended = true;
      this.sink.end();
      return;
    }
    const early = this.early;
    this.early = [];
    this.tokens(early);
  }

  tokens(pieces: readonly TokenPiece[]): void {
    for (const piece of pieces) {
      if (this.ended) return;
      if (this.attemptSeq === undefined || piece.seq > this.attemptSeq) {
        // Its attempt's in_progress event is on its way (the relay can outrun the notice of the claim).
        if (this.early.length < MAX_EARLY_PIECES) this.early.push(piece);
      } else if (piece.seq === this.attemptSeq) {
        this.send({ id: piece.seq * ID_STEP + piece.n, event: 'token', data: piece.chunk });
      }
    }
  }

  private send(event: LiveEvent): void {
    if (event.id <= this.sentId) return;
    this.sentId = event.id;
    this.sink.send(event);
  }
}

/** Live events of tasks, for GET /api/tasks/:id/events. */
@Injectable()
export class TaskEvents {
  private following = 0;

  constructor(private readonly feed: TaskFeed) {}

  /** Readers following a task on this replica now. */
  get readers(): number {
    return this.following;
  }

  /**
   * Sends `taskId`'s events after `afterId` to `sink` until the task ends (then calls `end`) or the returned function
   * is called. Rejects with TaskNotFoundError, before sending anything, when there is no such task.
   */
  async follow(taskId: string, afterId: number | undefined, sink: LiveEventSink): Promise<() => void> {
    const follower = new TaskFollower(sink, afterId);
    // Registered before the read: a change committed in between is heard, and sent once (ids never go back).
    const unsubscribe = this.feed.subscribe(taskId, {
      onTask: (task) => follower.task(task),
      onTokens: (pieces) => follower.tokens(pieces),
    });
    this.following += 1;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.following -= 1;
      unsubscribe();
    };
    try {
      const [task] = await this.feed.read([taskId]);
      if (task === undefined) throw new TaskNotFoundError(taskId);
      follower.task(task);
    } catch (error) {
      stop();
      throw error;
    }
    if (follower.done) stop();
    return stop;
  }
}

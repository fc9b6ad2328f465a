import type { TaskWithEvents, TokenPiece } from '@hive/database';
import type { TaskResult } from '../operations/operation-types.js';
import type { CallStart, GatewayCallEnd, GatewayCallObserver } from './gateway-call.types.js';

/** The seq of the task's latest in_progress event (its pieces carry it), 0 before any. */
function latestAttempt(task: TaskWithEvents): number {
  return task.events.findLast((event) => event.status === 'in_progress')?.seq ?? 0;
}

/**
 * One gateway call while its client waits: what it hears of its task (from this replica's runner directly, or from
 * the task feed) becomes, in order, its start, the pieces of its answer and its end. The first end heard wins.
 */
export class OpenCall {
  private start: CallStart | undefined;
  /** The seq of the in_progress event of the attempt `start` stands for. */
  private startSeq: number | undefined;
  /** Pieces heard before the agent producing them (read from another replica's notice). */
  private early: TokenPiece[] = [];
  /**
   * The attempt whose pieces reached the client (the seq of its in_progress event): the one it hears from, whatever
   * follows; pieces of any other are dropped.
   */
  private streamedSeq: number | undefined;
  /** Events of the latest task read (reads may arrive out of order). */
  private seenEvents = 0;
  private settle: (end: GatewayCallEnd) => void = () => undefined;
  readonly ended: Promise<GatewayCallEnd>;
  done = false;
  /** Its queue timeout is cancelling it: the cancellation heard is that timeout. */
  leavingQueue = false;

  constructor(
    readonly taskId: string,
    private readonly submittedAt: number,
    private readonly observer: GatewayCallObserver,
    private readonly hooks: {
      /** The first attempt began. */
      started(start: CallStart): void;
      /** The task went back to the queue after its answer began to stream: the call has failed, the task is to go. */
      interrupted(): void;
    },
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
  }

  /**
   * An attempt began on `agentId` (`seq`: its in_progress event's); a retry before any piece reached the client
   * replaces the one before. Pieces held for want of a start are handed over if they are this attempt's.
   */
  began(agentId: string, seq: number): void {
    if (this.done || this.streamedSeq !== undefined) return;
    if (seq !== this.startSeq) {
      const first = this.start === undefined;
      this.start = { taskId: this.taskId, agentId, queueMs: Math.round(performance.now() - this.submittedAt) };
      this.startSeq = seq;
      if (first) this.hooks.started(this.start);
    }
    for (const piece of this.early.splice(0)) if (piece.seq === seq) this.piece(piece);
  }

  tokens(pieces: readonly TokenPiece[]): void {
    for (const piece of pieces) this.piece(piece);
  }

  /** The attempt the client hears from, if one began. */
  get current(): CallStart | undefined {
    return this.start;
  }

  answered(result: TaskResult): void {
    if (this.start !== undefined) this.end({ outcome: 'completed', result, start: this.start });
  }

  /** The task as read after a change. */
  seen(task: TaskWithEvents): void {
    if (this.done || task.events.length < this.seenEvents) return;
    this.seenEvents = task.events.length;
    if (this.streamedSeq !== undefined && (task.status === 'pending' || latestAttempt(task) > this.streamedSeq)) {
      // Another attempt would start the answer again: the client has part of this one (its replica died mid-answer).
      this.end({
        outcome: 'failed',
        taskId: this.taskId,
        error: 'the answer broke off: its agent call was lost',
        start: this.start,
      });
      this.hooks.interrupted();
      return;
    }
    if (task.assigned_agent !== null && (task.status === 'in_progress' || task.status === 'completed')) {
      this.began(task.assigned_agent, latestAttempt(task));
    }
    switch (task.status) {
      case 'completed':
        this.answered(task.result as unknown as TaskResult);
        return;
      case 'failed':
        this.end({ outcome: 'failed', taskId: this.taskId, error: task.error ?? 'failed', start: this.start });
        return;
      case 'cancelled':
        if (this.leavingQueue) this.end({ outcome: 'queue_timeout', taskId: this.taskId });
        else this.end({ outcome: 'failed', taskId: this.taskId, error: `task ${this.taskId} was cancelled` });
        return;
      case 'pending':
      case 'in_progress':
    }
  }

  end(end: GatewayCallEnd): void {
    if (this.done) return;
    this.done = true;
    this.settle(end);
  }

  private piece(piece: TokenPiece): void {
    if (this.done || (this.streamedSeq !== undefined && piece.seq !== this.streamedSeq)) return;
    if (this.start === undefined) {
      this.early.push(piece);
      return;
    }
    this.streamedSeq = piece.seq;
    this.observer.onChunk(piece.chunk, this.start);
  }
}

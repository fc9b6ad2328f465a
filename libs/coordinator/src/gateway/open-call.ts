import type { TaskWithEvents, TokenPiece } from '@hive/database';
import type { AnswerChunk, TaskResult } from '../operations/operation-types.js';
import type { CallStart, GatewayCallEnd, GatewayCallObserver } from './gateway-call.types.js';

/**
 * One gateway call while its client waits: what it hears of its task (from this replica's runner directly, or from
 * the task feed) becomes, in order, its start, the pieces of its answer and its end. The first end heard wins.
 */
export class OpenCall {
  private start: CallStart | undefined;
  /** Pieces heard before the agent producing them (read from another replica's notice). */
  private early: AnswerChunk[] = [];
  /** Pieces reached the client: the attempt is the one it hears from, whatever follows. */
  private streamed = false;
  /** Events of the latest task read (reads may arrive out of order). */
  private seenEvents = 0;
  private settle: (end: GatewayCallEnd) => void = () => undefined;
  readonly ended: Promise<GatewayCallEnd>;
  done = false;

  constructor(
    readonly taskId: string,
    private readonly submittedAt: number,
    private readonly observer: GatewayCallObserver,
    private readonly onStart: (start: CallStart) => void,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
  }

  /** Whether an attempt has begun (the call left the queue). */
  get started(): boolean {
    return this.start !== undefined;
  }

  /** An attempt began on `agentId`; a retry before any piece reached the client replaces the one before. */
  began(agentId: string): void {
    if (this.done || this.streamed || this.start?.agentId === agentId) return;
    const first = this.start === undefined;
    this.start = { taskId: this.taskId, agentId, queueMs: Math.round(performance.now() - this.submittedAt) };
    if (first) this.onStart(this.start);
    for (const chunk of this.early.splice(0)) this.piece(chunk);
  }

  tokens(pieces: readonly TokenPiece[]): void {
    for (const piece of pieces) this.piece(piece.chunk);
  }

  answered(result: TaskResult): void {
    if (this.start !== undefined) this.end({ outcome: 'completed', result, start: this.start });
  }

  /** The task as read after a change. */
  seen(task: TaskWithEvents): void {
    if (this.done || task.events.length < this.seenEvents) return;
    this.seenEvents = task.events.length;
    if (task.assigned_agent !== null && (task.status === 'in_progress' || task.status === 'completed')) {
      this.began(task.assigned_agent);
    }
    switch (task.status) {
      case 'completed':
        this.answered(task.result as unknown as TaskResult);
        return;
      case 'failed':
        this.end({ outcome: 'failed', taskId: this.taskId, error: task.error ?? 'failed', start: this.start });
        return;
      case 'cancelled':
        this.end({ outcome: 'failed', taskId: this.taskId, error: `task ${this.taskId} was cancelled` });
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

  private piece(chunk: AnswerChunk): void {
    if (this.done) return;
    if (this.start === undefined) {
      this.early.push(chunk);
      return;
    }
    this.streamed = true;
    this.observer.onChunk(chunk, this.start);
  }
}

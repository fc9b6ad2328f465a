import { Injectable, Logger } from '@nestjs/common';
import { describeError, packTokenPayloads, QueueChannel, type TokenPiece } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import type { AnswerChunk } from '../operations/operation-types.js';
import { outsideRequests } from '../outside-requests.js';
import { TaskFeed } from './task-feed.service.js';

/** Pieces wait at most this long for others to share their NOTIFY with. */
const RELAY_INTERVAL_MS = 25;
/** ... or until this much is waiting. */
const RELAY_BYTES = 4 * 1024;
/** What waits for a database that does not keep up, at most; beyond it the oldest pieces are dropped. */
const MAX_WAITING_BYTES = 4 * 1024 * 1024;
/** A longer text is relayed as several pieces, so that each fits a NOTIFY (JSON may escape a character to 6 bytes). */
const MAX_PIECE_CHARS = 1_000;

/** The pieces of one streamed call, handed to the relay as the agent produces them. */
export interface TokenSink {
  push(this: void, chunk: AnswerChunk): void;
  /** Sends what is still waiting and resolves once it was (never rejects): the call's end is written after. */
  close(this: void): Promise<void>;
}

/** `text` in pieces of at most MAX_PIECE_CHARS, never splitting a surrogate pair. */
function split(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (text.length - start > MAX_PIECE_CHARS) {
    let end = start + MAX_PIECE_CHARS;
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Relays the pieces of streamed answers (docs/architecture.md, "Live events"): to this replica's followers at once,
 * and to the other replicas through PostgreSQL, the only component they share. Pieces are batched per
 * RELAY_INTERVAL_MS or RELAY_BYTES into as few NOTIFY payloads as fit (8,000 bytes each), one statement in flight
 * at a time: the NOTIFYs grow with the bytes streamed, not with the pieces or the tasks. Nothing here waits
 * for a reader: a slow one is the reader's own problem (its bounded buffer), and the agent call never waits on the
 * relay but at its end, for the last pieces to be sent before its result is written.
 */
@Injectable()
export class TokenRelay {
  private readonly logger = new Logger('TokenRelay');
  private waiting: { piece: TokenPiece; bytes: number }[] = [];
  private waitingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The send in flight, if any. */
  private sending: Promise<void> | undefined;
  private dropped = 0;
  private readonly detached = outsideRequests();

  constructor(
    private readonly feed: TaskFeed,
    private readonly channel: QueueChannel,
    private readonly state: CoordinatorState,
  ) {}

  /** A sink for the call of task `taskId` whose in_progress event has seq `seq`. */
  open(taskId: string, seq: number): TokenSink {
    let n = 0;
    return {
      push: (chunk) => {
        const pieces: TokenPiece[] = [];
        const { content, ...rest } = chunk;
        if (content !== undefined && content.length > MAX_PIECE_CHARS) {
          for (const part of split(content)) pieces.push({ taskId, seq, n: ++n, chunk: { content: part } });
          if (Object.keys(rest).length > 0) pieces.push({ taskId, seq, n: ++n, chunk: { ...rest } });
        } else {
          pieces.push({ taskId, seq, n: ++n, chunk: { ...chunk } });
        }
        this.feed.publishTokens(pieces);
        for (const piece of pieces) this.enqueue(piece);
      },
      close: () => this.flush(),
    };
  }

  private enqueue(piece: TokenPiece): void {
    const bytes = JSON.stringify(piece.chunk).length + 64;
    this.waiting.push({ piece, bytes });
    this.waitingBytes += bytes;
    while (this.waitingBytes > MAX_WAITING_BYTES && this.waiting.length > 1) {
      const oldest = this.waiting.shift();
      this.waitingBytes -= oldest?.bytes ?? 0;
      this.dropped += 1;
    }
    if (this.waitingBytes >= RELAY_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), RELAY_INTERVAL_MS);
  }

  /** Sends everything waiting now (after the send in flight); resolves once it was sent or given up. */
  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.sending !== undefined) await this.sending;
    if (this.waiting.length === 0) return;
    const pieces = this.waiting.map((w) => w.piece);
    this.waiting = [];
    this.waitingBytes = 0;
    this.sending = this.detached(() => this.send(pieces)).finally(() => (this.sending = undefined));
    await this.sending;
  }

  private async send(pieces: TokenPiece[]): Promise<void> {
    const { payloads, skipped } = packTokenPayloads(this.state.replicaId, pieces);
    const dropped = this.dropped + skipped;
    this.dropped = 0;
    try {
      await this.channel.notifyTokens(payloads);
    } catch (error) {
      // Best effort by design: the answer itself is stored with the task, and its completed event carries it whole.
      this.logger.warn(
        { pieces: pieces.length, err: describeError(error) },
        `Relaying ${pieces.length} streamed piece(s) to the other replicas failed: ${describeError(error)}`,
      );
    }
    if (dropped > 0) {
      this.logger.warn({ pieces: dropped }, `${dropped} streamed piece(s) were too large or too many to relay`);
    }
  }
}

import type { ServerResponse } from 'node:http';
import type { LiveEvent, LiveEventSink } from '@hive/coordinator';

/** A comment every this often keeps proxies and load balancers from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;
/** What may wait unsent for a reader (in its socket's buffer) before the next event; a reader further behind is dropped. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** How long an ended stream may take to flush its last bytes before its connection is cut. */
const CLOSE_GRACE_MS = 5_000;

/** One event in the text/event-stream format (its data is one JSON line). */
const eventText = (id: number | undefined, event: string, data: unknown): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * Writes one reader's server-sent events to its response without ever waiting for it: what it has not taken stays
 * in its socket's buffer, bounded by MAX_UNSENT_BYTES, and a reader that falls further behind is sent a `dropped`
 * event and disconnected, so that it never holds up the agent call, other readers or the dispatcher. What is sent
 * before open() waits for it: the head goes out only once the task was found.
 */
export class SseWriter implements LiveEventSink {
  private state: 'waiting' | 'open' | 'done' = 'waiting';
  private readonly early: string[] = [];
  private endAfterOpen = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly closeListeners: (() => void)[] = [];

  constructor(private readonly res: ServerResponse) {
    res.on('close', () => this.over());
  }

  /** Writes the head (with the platform's `headers`, e.g. the request id), what was sent so far, and goes live. */
  open(headers: Record<string, string | number | string[] | undefined>): void {
    if (this.state !== 'waiting') return;
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    // The head goes out now, not with the first event: a reader with nothing to catch up on knows it is connected.
    this.res.flushHeaders();
    this.state = 'open';
    for (const text of this.early.splice(0)) this.write(text);
    if (this.endAfterOpen) this.end();
    else if (this.state === 'open') this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  }

  send(event: LiveEvent): void {
    this.write(eventText(event.id, event.event, event.data));
  }

  /** Ends the stream: the task ended (its last event is out), or the replica is stopping. */
  end(): void {
    if (this.state === 'waiting') this.endAfterOpen = true;
    if (this.state !== 'open') return;
    this.res.end();
    this.over();
    setTimeout(() => this.res.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Called once the stream is over, however it ended: the reader went away, the task ended, it was dropped. */
  onClose(listener: () => void): void {
    if (this.state === 'done') listener();
    else this.closeListeners.push(listener);
  }

  private write(text: string): void {
    if (this.state === 'waiting') this.early.push(text);
    if (this.state !== 'open') return;
    // Judged by what is still waiting, not by the event: an answer larger than the bound reaches a reader that keeps up.
    if (this.res.writableLength > MAX_UNSENT_BYTES) {
      const reason = 'the reader fell too far behind; reconnect with Last-Event-ID';
      this.res.write(eventText(undefined, 'dropped', { reason }));
      this.end();
      return;
    }
    this.res.write(text);
  }

  private over(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    clearInterval(this.keepAlive);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

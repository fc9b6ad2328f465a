/**
 * A server-sent-events client for tests, over node:http rather than EventSource or fetch: it never reconnects on its
 * own, shows the response head and error bodies, and can stop reading (pause()) so the server meets real TCP
 * backpressure, as from a stalled browser tab.
 */
import { get, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface SseEvent {
  /** The last event ID in force when the event was dispatched (it persists across events); unset while empty. */
  readonly id?: string;
  /** 'message' unless the event named another type. */
  readonly event: string;
  /** The data lines, joined with \n. */
  readonly data: string;
  readonly receivedAt: number;
  json<T = unknown>(): T;
}

export interface EventStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Events dispatched so far, in order (only for a 2xx answer). */
  readonly events: readonly SseEvent[];
  /** Comment lines (keep-alives), the text after ':' with one leading space removed. */
  readonly comments: readonly string[];
  /** Resolves when the response is over: ended by the server, or the connection dropped or was closed. */
  readonly closed: Promise<void>;
  /** The first matching event, received already or later; rejects on timeout or when the stream closes first. */
  waitFor(predicate: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** The whole body once the response is over (for error answers). */
  text(): Promise<string>;
  /** Stops reading from the socket, so the server's writes back up (TCP backpressure). */
  pause(): void;
  resume(): void;
  close(): void;
}

/** The WHATWG event-stream interpretation: lines, fields, dispatch on a blank line. */
class SseParser {
  private partial = '';
  /** The previous chunk ended in \r: a \n opening the next one ends no further line. */
  private skipLf = false;
  private started = false;
  private data = '';
  private type = '';
  private lastEventId = '';

  private readonly onEvent: (e: SseEvent) => void;
  private readonly onComment: (text: string) => void;

  constructor(onEvent: (e: SseEvent) => void, onComment: (text: string) => void) {
    this.onEvent = onEvent;
    this.onComment = onComment;
  }

  feed(text: string): void {
    if (text === '') return;
    if (!this.started) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1); // one leading BOM is ignored
    }
    let start = 0;
    if (this.skipLf && text.startsWith('\n')) start = 1;
    this.skipLf = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c !== '\r' && c !== '\n') continue;
      this.line(this.partial + text.slice(start, i));
      this.partial = '';
      if (c === '\r') {
        if (i + 1 === text.length) this.skipLf = true;
        else if (text[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.partial += text.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (colon === 0) return this.onComment(value);
    if (field === 'data') this.data += `${value}\n`;
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // retry and unknown fields are ignored
  }

  private dispatch(): void {
    const { data, type, lastEventId } = this;
    this.data = '';
    this.type = '';
    if (data === '') return; // no data line: nothing is dispatched
    const text = data.slice(0, -1);
    this.onEvent({
      ...(lastEventId === '' ? {} : { id: lastEventId }),
      event: type === '' ? 'message' : type,
      data: text,
      receivedAt: Date.now(),
      json: <T>() => JSON.parse(text) as T,
    });
  }
}

/** GETs `url` as an event stream; resolves once the response head arrived, rejects on a connection error. */
export function openEventStream(
  url: string,
  options: { headers?: Record<string, string>; lastEventId?: string } = {},
): Promise<EventStream> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  Object.assign(headers, options.headers);

  return new Promise((resolve, reject) => {
    // A connection of its own (no pooled keep-alive socket), so pause() and close() touch this stream only.
    const req = get(url, { headers, agent: false });
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      req.off('error', reject);
      req.on('error', () => undefined); // after the head, a dropped connection shows as `closed`
      resolve(streamOf(url, req.destroy.bind(req), res));
    });
  });
}

function streamOf(url: string, destroy: () => void, res: IncomingMessage): EventStream {
  const status = res.statusCode ?? 0;
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  let body = '';
  let over = false;
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  const parser = new SseParser(
    (e) => {
      events.push(e);
      notify();
    },
    (text) => comments.push(text),
  );

  res.setEncoding('utf8'); // a StringDecoder: characters split across chunks come out whole
  res.on('data', (chunk: string) => {
    body += chunk;
    if (status >= 200 && status < 300) parser.feed(chunk);
  });
  res.on('error', () => undefined); // an aborted response ends in 'close' all the same
  const closed = new Promise<void>((resolve) =>
    res.once('close', () => {
      over = true;
      notify();
      resolve();
    }),
  );

  const names = (): string => `[${events.map((e) => e.event).join(', ')}]`;
  return {
    status,
    headers: res.headers,
    events,
    comments,
    closed,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        let seen = events.length;
        const stop = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (): void => {
          const match = events.slice(seen).find(predicate);
          seen = events.length;
          if (match !== undefined) {
            stop();
            resolve(match);
          } else if (over) {
            stop();
            reject(new Error(`event stream ${url} (${status}) closed without a matching event; received ${names()}`));
          }
        };
        const timer = setTimeout(() => {
          stop();
          reject(
            new Error(`event stream ${url} (${status}): no matching event within ${timeoutMs} ms; received ${names()}`),
          );
        }, timeoutMs);
        listeners.add(check);
        check(); // the stream may be over already
      });
    },
    text: () => closed.then(() => body),
    pause() {
      res.pause();
    },
    resume() {
      res.resume();
    },
    close() {
      destroy();
    },
  };
}

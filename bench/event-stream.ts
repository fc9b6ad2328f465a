/**
 * A server-sent-events reader for the delivery phase: GET over node:http on a connection of its own, every event
 * stamped with performance.now() of the chunk that completed it (the clock of the agent tap in the same process).
 * test/support/sse-client.ts is the tests' full client; this one only reads what Hive sends, as fast as it comes.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StreamEvent {
  /** 'message' unless the event named another type. */
  event: string;
  id?: string;
  /** The data lines, joined with \n. */
  data: string;
  /** performance.now() when the chunk that completed the event arrived. */
  at: number;
}

export interface EventReader {
  readonly events: readonly StreamEvent[];
  /** Resolves when the server ended the stream (or the connection dropped or was closed). */
  readonly closed: Promise<void>;
  /** Whether the stream is over. */
  readonly over: boolean;
  /** Resolves with the first event matching `predicate`; rejects after `timeoutMs` or once the stream is over. */
  waitFor(predicate: (e: StreamEvent) => boolean, timeoutMs: number): Promise<StreamEvent>;
  close(): void;
}

/** GET `url` with the API key; resolves once a 200 `text/event-stream` head arrived, rejects on anything else. */
export function readEvents(url: string, apiKey: string): Promise<EventReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { accept: 'text/event-stream', 'x-api-key': apiKey },
      agent: false,
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const type = res.headers['content-type'] ?? '';
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => reject(new Error(`GET ${url} answered ${res.statusCode} ${type}: ${body.slice(0, 500)}`)));
        return;
      }
      req.off('error', reject);
      req.on('error', () => undefined); // after the head, a dropped connection shows as `closed`
      const events: StreamEvent[] = [];
      let over = false;
      let partial = '';
      let event = '';
      let id: string | undefined;
      let data: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const raw of lines) {
          const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          if (line === '') {
            if (data.length > 0)
              events.push({ event: event === '' ? 'message' : event, id, data: data.join('\n'), at });
            event = '';
            data = [];
            continue;
          }
          const colon = line.indexOf(':');
          if (colon === 0) continue; // a comment (keep-alive)
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
        }
      });
      const closed = new Promise<void>((done) => {
        const end = (): void => {
          over = true;
          done();
        };
        res.once('end', end);
        res.once('close', end);
      });
      resolve({
        events,
        closed,
        get over() {
          return over;
        },
        async waitFor(predicate, timeoutMs) {
          const deadline = performance.now() + timeoutMs;
          for (;;) {
            const found = events.find(predicate);
            if (found !== undefined) return found;
            if (over) throw new Error(`GET ${url}: the stream ended without the event awaited`);
            if (performance.now() > deadline) throw new Error(`GET ${url}: no such event within ${timeoutMs} ms`);
            await sleep(1);
          }
        },
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}

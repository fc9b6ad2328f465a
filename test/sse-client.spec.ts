import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openEventStream, type EventStream, type SseEvent } from './support/sse-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const summary = (events: readonly SseEvent[]) => events.map(({ id, event, data }) => ({ id, event, data }));

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

/** One write per piece (one HTTP chunk each), apart in time, so the client reads them as separate chunks. */
async function writeApart(res: ServerResponse, pieces: (string | Buffer)[]): Promise<void> {
  for (const piece of pieces) {
    res.write(piece);
    await pause(5);
  }
  res.end();
}

describe('sse client (real HTTP)', () => {
  let server: Server | undefined;
  const streams: EventStream[] = [];

  /** A tiny event-stream server; returns the URL of a task's events. */
  const serve = async (handler: Handler): Promise<string> => {
    server = createServer((req, res) => {
      Promise.resolve()
        .then(() => handler(req, res))
        .catch(() => res.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/tasks/42/events`;
  };
  const open = async (url: string, options?: Parameters<typeof openEventStream>[1]): Promise<EventStream> => {
    const stream = await openEventStream(url, options);
    streams.push(stream);
    return stream;
  };

  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    if (server !== undefined) {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      server = undefined;
    }
  });

  it('parses lines and characters split across writes', async () => {
    const emoji = Buffer.from('data: héllo € 😀\n\n', 'utf8');
    const euro = Buffer.byteLength('data: héllo ') + 1; // inside the 3-byte €
    const face = Buffer.byteLength('data: héllo € ') + 2; // inside the 4-byte 😀
    const url = await serve((_req, res) => {
      openSse(res);
      return writeApart(res, [
        'event: progress\nda',
        'ta: {"pct"',
        ':50}\n',
        '\n',
        emoji.subarray(0, euro),
        emoji.subarray(euro, face),
        emoji.subarray(face),
        'data: incomplete', // no blank line before the end: never dispatched
      ]);
    });

    const stream = await open(url);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    await stream.closed;

    expect(summary(stream.events)).toEqual([
      { event: 'progress', data: '{"pct":50}' },
      { event: 'message', data: 'héllo € 😀' },
    ]);
    expect(stream.events[0]?.json<{ pct: number }>()).toEqual({ pct: 50 });
    expect(typeof stream.events[1]?.receivedAt).toBe('number');
  });

  it('accepts \\r\\n and \\r line endings, also when a \\r\\n is split across writes', async () => {
    const url = await serve((_req, res) => {
      openSse(res);
      return writeApart(res, [
        'event: log\r\ndata: line one\r\ndata: line two\r\n\r\n',
        'data: a\r', // the \n that follows ends no second line
        '\ndata: b\r\n\r\n',
        'data:x\rdata:  y\r\r', // one leading space removed, no more
      ]);
    });

    const stream = await open(url);
    await stream.closed;
    expect(summary(stream.events)).toEqual([
      { event: 'log', data: 'line one\nline two' },
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'x\n y' },
    ]);
  });

  it('keeps the last event id across events, ignores retry, collects comments', async () => {
    const url = await serve((_req, res) => {
      openSse(res);
      return writeApart(res, [
        ': keep-alive\n\n',
        'id: 1\nevent: queued\ndata: {}\n\n',
        'event: running\ndata: {}\n\n',
        'retry: 1000\n:\nid: 2\ndata: after\n\n',
        'event: no-data\nid: 3\n\n', // no data line: not dispatched, but the id sticks
        'data: three\n\n',
        'id\ndata: cleared\n\n',
      ]);
    });

    const stream = await open(url);
    await stream.closed;
    expect(summary(stream.events)).toEqual([
      { id: '1', event: 'queued', data: '{}' },
      { id: '1', event: 'running', data: '{}' },
      { id: '2', event: 'message', data: 'after' },
      { id: '3', event: 'message', data: 'three' },
      { id: undefined, event: 'message', data: 'cleared' },
    ]);
    expect(stream.comments).toEqual(['keep-alive', '']);
  });

  it('waitFor resolves with a later event, and rejects listing what arrived when none matches', async () => {
    const release = deferred<void>();
    const finish = deferred<void>();
    const url = await serve(async (_req, res) => {
      openSse(res);
      res.write('event: queued\ndata: {"state":"queued"}\n\n');
      await release.promise;
      res.write('event: completed\ndata: {"state":"completed"}\n\n');
      await finish.promise;
      res.end();
    });

    const stream = await open(url);
    const completed = stream.waitFor((e) => e.event === 'completed');
    await expect(stream.waitFor((e) => e.event === 'queued')).resolves.toMatchObject({ event: 'queued' });
    await expect(stream.waitFor((e) => e.event === 'failed', 50)).rejects.toThrow(
      /no matching event within 50 ms; received \[queued\]/,
    );

    release.resolve();
    const event = await completed;
    expect(event.json()).toEqual({ state: 'completed' });

    const never = stream.waitFor((e) => e.event === 'failed');
    finish.resolve();
    await expect(never).rejects.toThrow(/closed without a matching event; received \[queued, completed\]/);
    await expect(stream.closed).resolves.toBeUndefined();
  });

  it('sends Accept, Last-Event-ID and extra headers', async () => {
    const url = await serve((req, res) => {
      openSse(res);
      res.end(`event: headers\ndata: ${JSON.stringify(req.headers)}\n\n`);
    });

    const stream = await open(url, { lastEventId: '7', headers: { authorization: 'Bearer token' } });
    const event = await stream.waitFor((e) => e.event === 'headers');
    expect(event.json()).toMatchObject({
      accept: 'text/event-stream',
      'last-event-id': '7',
      authorization: 'Bearer token',
    });
  });

  it('resolves for an error answer, with its body in text()', async () => {
    const body = JSON.stringify({ statusCode: 404, message: 'Task 42 not found' });
    const url = await serve((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(body);
    });

    const stream = await open(url);
    expect(stream.status).toBe(404);
    expect(stream.headers['content-type']).toBe('application/json');
    await expect(stream.text()).resolves.toBe(body);
    expect(stream.events).toEqual([]);
  });

  it('rejects when the connection is refused', async () => {
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const { port } = gone.address() as AddressInfo;
    gone.close();
    await once(gone, 'close');

    await expect(openEventStream(`http://127.0.0.1:${port}/api/tasks/42/events`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('pause() stalls the reader until the server meets backpressure; resume() lets everything through', async () => {
    const response = deferred<ServerResponse>();
    const url = await serve((_req, res) => {
      openSse(res);
      res.write('event: hello\ndata: {}\n\n');
      response.resolve(res);
    });

    const stream = await open(url);
    await stream.waitFor((e) => e.event === 'hello');
    const res = await response.promise;
    stream.pause();

    // Small events (below the socket's 16 KiB high-water mark), yielding between writes, so a reader that still
    // read would keep up and write() would keep returning true. Paused, the kernel buffers fill (a few MiB) and
    // write() returns false. The cap (64 MiB) turns a pause that does not hold into a failure instead of a hang.
    const payload = `data: ${'x'.repeat(1024)}\n\n`;
    let written = 0;
    let drained: Promise<unknown> | undefined;
    while (drained === undefined && written < 65_536) {
      if (!res.write(`id: ${written}\n${payload}`)) drained = once(res, 'drain');
      written += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(drained).toBeDefined();
    expect(stream.events).toHaveLength(1); // nothing parsed while paused

    stream.resume();
    await drained;
    res.end();
    await stream.closed;
    expect(stream.events).toHaveLength(1 + written);
    expect(stream.events.at(-1)?.id).toBe(String(written - 1));
  });
});

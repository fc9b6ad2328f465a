/**
 * One Chrome DevTools Protocol session on a Node inspector (`ws://…` from "Debugger listening on"), kept open for
 * every call: a CPU profiler lives as long as its session.
 */
export class InspectorSession {
  private readonly socket: Promise<WebSocket>;
  private lastId = 0;
  private readonly calls = new Map<number, { ok: (value: unknown) => void; fail: (error: Error) => void }>();

  constructor(url: string) {
    this.socket = new Promise<WebSocket>((ok, fail) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => ok(socket));
      socket.addEventListener('error', () => fail(new Error(`inspector connection to ${url} failed`)));
      socket.addEventListener('message', (event: MessageEvent) => {
        const message = JSON.parse(String(event.data)) as {
          id?: number;
          result?: unknown;
          error?: { message: string };
        };
        const waiter = message.id === undefined ? undefined : this.calls.get(message.id);
        if (waiter === undefined || message.id === undefined) return;
        this.calls.delete(message.id);
        if (message.error !== undefined) waiter.fail(new Error(message.error.message));
        else waiter.ok(message.result);
      });
    });
  }

  async call<T>(method: string, params: object = {}): Promise<T> {
    const socket = await this.socket;
    const id = ++this.lastId;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`inspector ${method} timed out`)), 60_000);
      this.calls.set(id, {
        ok: (value) => {
          clearTimeout(timer);
          ok(value as T);
        },
        fail: (error) => {
          clearTimeout(timer);
          fail(new Error(`inspector ${method}: ${error.message}`));
        },
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.then(
      (socket) => socket.close(),
      () => undefined, // never connected: nothing to close
    );
  }
}

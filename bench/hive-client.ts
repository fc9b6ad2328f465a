/**
 * The benchmark's requests into Hive under load: node:http over a bounded pool of keep-alive sockets, JSON in and out.
 *
 * Everything else the benchmark asks Hive (agents, status, metrics) goes through test/support/api.ts, but not the
 * measured requests (submissions, and the delivery phase's waits): tens of thousands of requests from a process that
 * shares the machine's two cores with Hive, and fetch (undici: WHATWG streams and headers) costs the client more CPU
 * per request than a bare node:http request. Latency samples also need the moment the whole response had arrived
 * (`at`).
 */
import { Agent as HttpAgent, request } from 'node:http';
import type { NewTask } from '../test/support/api.js';

export interface SubmitResponse {
  status: number;
  body: unknown;
  /** performance.now() when the whole response had arrived. */
  at: number;
}

export class HiveClient {
  private readonly base: URL;
  private readonly sockets: HttpAgent;
  private readonly apiKey: string;

  constructor(url: string, apiKey: string, maxSockets: number) {
    this.base = new URL(url);
    this.apiKey = apiKey;
    this.sockets = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** POST /api/tasks; throws unless 201. */
  submitTask(task: NewTask): Promise<SubmitResponse> {
    return this.created('/api/tasks', task);
  }

  /**
   * Submits `count` tasks with `concurrency` requests in flight, one task per POST /api/tasks or, with `batch` > 1,
   * up to `batch` per POST /api/tasks/batch; resolves when every one was accepted.
   */
  async submitMany(count: number, concurrency: number, task: (i: number) => NewTask, batch = 1): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const first = next;
        const n = Math.min(batch, count - first);
        next += n;
        if (batch === 1) await this.submitTask(task(first));
        else await this.created('/api/tasks/batch', { tasks: Array.from({ length: n }, (_, k) => task(first + k)) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(count / batch)) }, worker));
  }

  close(): void {
    this.sockets.destroy();
  }

  private async created(path: string, payload: unknown): Promise<SubmitResponse> {
    const res = await this.post(path, payload);
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res;
  }

  private post(path: string, payload: unknown): Promise<SubmitResponse> {
    return this.request('POST', path, payload);
  }

  /** One request on the pooled sockets: JSON in (when `payload` is given) and out, whatever the status. */
  request(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<SubmitResponse> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    return new Promise((ok, fail) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.sockets,
          headers: {
            accept: 'application/json',
            'x-api-key': this.apiKey,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('end', () => {
            const at = performance.now();
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (an error page): keep the text for the message
            }
            ok({ status: res.statusCode ?? 0, body: parsed, at });
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }
}

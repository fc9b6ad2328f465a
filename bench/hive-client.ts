/**
 * The benchmark's REST client for Hive: node:http over keep-alive sockets (a bounded pool), JSON in and out. Kept
 * minimal so that the client costs as little CPU as possible on a machine Hive shares with it.
 */
import { Agent as HttpAgent, request } from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
  /** performance.now() when the whole response had arrived. */
  at: number;
}

export interface BenchTask {
  type: string;
  priority: number;
  context: Record<string, unknown>;
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

  request(method: string, path: string, payload?: unknown): Promise<JsonResponse> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    return new Promise((ok, fail) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.sockets,
          headers:
            body === undefined
              ? { accept: 'application/json', 'x-api-key': this.apiKey }
              : {
                  accept: 'application/json',
                  'x-api-key': this.apiKey,
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(body),
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
              // not JSON (e.g. Prometheus text): keep the text
            }
            ok({ status: res.statusCode ?? 0, body: parsed, at });
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  /** POST /api/tasks; throws unless 201. */
  async submitTask(task: BenchTask): Promise<JsonResponse> {
    return this.created('/api/tasks', task);
  }

  /**
   * Submits `count` tasks with `concurrency` requests in flight, one task per POST /api/tasks or, with `batch` > 1,
   * up to `batch` per POST /api/tasks/batch; resolves when every one was accepted.
   */
  async submitMany(count: number, concurrency: number, task: (i: number) => BenchTask, batch = 1): Promise<void> {
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

  private async created(path: string, payload: unknown): Promise<JsonResponse> {
    const res = await this.request('POST', path, payload);
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res;
  }

  close(): void {
    this.sockets.destroy();
  }
}

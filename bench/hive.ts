/**
 * Hive under benchmark: a real process of the production build (`node dist/apps/hive-api/src/main.js`, as the
 * Docker image runs it) with NODE_ENV=production against its own database, plus the readings the benchmark takes
 * of it (CPU from /proc, memory from GET /api/metrics or /proc and the inspector).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CpuProfile } from './cpu-profile.js';
import { HiveClient } from './hive-client.js';
import { ADMIN_API_KEY, processRssBytes, ROOT, sleep } from './support.js';

export const HIVE_MAIN = process.env.BENCH_HIVE_MAIN ?? resolve(ROOT, 'dist/apps/hive-api/src/main.js');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? ok(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/** Extra settings for Hive from BENCH_HIVE_ENV="DB_POOL_SIZE=20,DB_POOL_MAX_OVERFLOW=60" (for experiments). */
function extraEnv(): Record<string, string> {
  const raw = process.env.BENCH_HIVE_ENV ?? '';
  return Object.fromEntries(
    raw
      .split(',')
      .map((pair) => pair.trim())
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
  /** Where the figures came from. */
  source: string;
}

export class BenchHive {
  readonly url: string;
  readonly client: HiveClient;
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;
  private inspectorUrl: string | undefined;
  private inspectorId = 0;
  private session: Promise<WebSocket> | undefined;
  private readonly calls = new Map<number, { ok: (value: unknown) => void; fail: (error: Error) => void }>();

  private constructor(child: ChildProcess, url: string, clientSockets: number) {
    this.child = child;
    this.url = url;
    this.client = new HiveClient(url, ADMIN_API_KEY, clientSockets);
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.shift();
        const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(line);
        if (inspector?.[1] !== undefined) this.inspectorUrl = inspector[1];
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  /**
   * Starts Hive and waits until it dispatches. `inspect` opens the inspector on a free local port, used only to
   * force a garbage collection before memory readings.
   */
  static async start(
    databaseUrl: string,
    options: { inspect?: boolean; countQueries?: boolean; clientSockets?: number } = {},
  ): Promise<BenchHive> {
    const port = await freePort();
    const args = [
      ...(options.inspect === true ? ['--inspect=127.0.0.1:0'] : []),
      ...(options.countQueries === true
        ? ['--import', pathToFileURL(resolve(import.meta.dirname, 'count-queries.js')).href]
        : []),
      HIVE_MAIN,
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        LOG_LEVEL: process.env.BENCH_HIVE_LOG_LEVEL ?? 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        HIVE_REPLICA_ID: 'bench',
        HIVE_ADMIN_API_KEY: ADMIN_API_KEY,
        // One client sends every request with one key: the per-key rate limit (600/min by default) must not
        // refuse it.
        THROTTLE_LIMIT: '1000000',
        THROTTLE_TTL_MS: '1000',
        ...extraEnv(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hive = new BenchHive(child, `http://127.0.0.1:${port}`, options.clientSockets ?? 64);
    await hive.waitUntilRunning();
    return hive;
  }

  get pid(): number {
    return this.child.pid ?? NaN;
  }

  /** The last lines Hive wrote (for error messages). */
  output(): string {
    return this.lines.slice(-40).join('\n');
  }

  async registerAgents(
    agents: { id: string; endpoint: string; model: string; specialty: string; max_concurrent: number }[],
  ): Promise<void> {
    for (const agent of agents) {
      const res = await this.client.request('POST', '/api/agents', agent);
      if (res.status !== 201) throw new Error(`POST /api/agents answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
  }

  /** GET /api/metrics as `name{labels}` → value; undefined when Hive has no metrics endpoint. */
  async metrics(): Promise<Map<string, number> | undefined> {
    const res = await this.client.request('GET', '/api/metrics').catch(() => undefined);
    if (res?.status !== 200 || typeof res.body !== 'string') return undefined;
    const values = new Map<string, number>();
    for (const line of res.body.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], Number(match[2]));
    }
    return values;
  }

  /** Memory from Hive's own metrics when GET /api/metrics exists; else VmRSS from /proc and the inspector's heap. */
  async memory(): Promise<MemoryReading> {
    const metrics = await this.metrics();
    if (metrics !== undefined) {
      const rss = metrics.get('process_resident_memory_bytes') ?? NaN;
      const heap = metrics.get('nodejs_heap_size_used_bytes') ?? NaN;
      if (Number.isFinite(rss) || Number.isFinite(heap))
        return { rssBytes: rss, heapUsedBytes: heap, source: 'GET /api/metrics' };
    }
    const heap =
      this.inspectorUrl === undefined ? undefined : await this.inspector<{ usedSize: number }>('Runtime.getHeapUsage');
    return {
      rssBytes: processRssBytes(this.pid),
      heapUsedBytes: heap?.usedSize ?? NaN,
      source: heap === undefined ? '/proc VmRSS (no heap figure)' : '/proc VmRSS + inspector heap (no /api/metrics)',
    };
  }

  /** A full garbage collection through the inspector (only when started with `inspect`); false otherwise. */
  async collectGarbage(): Promise<boolean> {
    if (this.inspectorUrl === undefined) return false;
    await this.inspector('HeapProfiler.collectGarbage');
    return true;
  }

  /** CPU profiling from now until `stopProfiler` (inspector only). */
  async startProfiler(): Promise<void> {
    await this.inspector('Profiler.enable');
    await this.inspector('Profiler.setSamplingInterval', { interval: 200 });
    await this.inspector('Profiler.start');
  }

  async stopProfiler(): Promise<CpuProfile> {
    const { profile } = await this.inspector<{ profile: CpuProfile }>('Profiler.stop');
    return profile;
  }

  /** Statement counts by opening text (only when started with `countQueries` and `inspect`). */
  async queryCounts(): Promise<Map<string, number>> {
    const { result } = await this.inspector<{ result: { value?: string } }>('Runtime.evaluate', {
      expression: 'globalThis.__hiveBenchQueries?.()',
      returnByValue: true,
    });
    return new Map(Object.entries(JSON.parse(result.value ?? '{}') as Record<string, number>));
  }

  /**
   * SIGTERM, as Kubernetes stops it; resolves with a complaint (and Hive's last lines) when it did not end well.
   * Nest re-raises SIGTERM after its shutdown hooks unless told to exit, so "killed by SIGTERM" counts as a clean end.
   */
  async stop(): Promise<string | undefined> {
    this.client.close();
    void this.session?.then((socket) => socket.close());
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    const { exitCode, signalCode } = this.child;
    if (exitCode === 0 || signalCode === 'SIGTERM') return undefined;
    return `Hive ended with ${exitCode === null ? `signal ${signalCode}` : `exit code ${exitCode}`}:\n${this.output()}`;
  }

  private async waitUntilRunning(timeoutMs = 60_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (performance.now() < deadline) {
      if (exited) throw new Error(`Hive exited while starting:\n${this.output()}`);
      const res = await this.client.request('GET', '/api/status').catch(() => undefined);
      const phase = (res?.body as { system?: { status?: string } } | undefined)?.system?.status;
      if (res?.status === 200 && phase === 'running') return;
      await sleep(50);
    }
    throw new Error(`Hive did not start dispatching within ${timeoutMs} ms:\n${this.output()}`);
  }

  /** One Chrome DevTools Protocol call, on a session kept open (a profiler lives as long as its session). */
  private async inspector<T>(method: string, params: object = {}): Promise<T> {
    const url = this.inspectorUrl;
    if (url === undefined) throw new Error('Hive was started without the inspector');
    this.session ??= new Promise<WebSocket>((ok, fail) => {
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
    const socket = await this.session;
    const id = ++this.inspectorId;
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
}

/**
 * Hive under benchmark: a real process of the production build (`node dist/apps/hive-api/src/main.js`, as the
 * Docker image runs it, started by test/support/hive-process.ts) with NODE_ENV=production against its own
 * database, plus the readings the benchmark takes of it (CPU from /proc, memory from GET /api/metrics or /proc and
 * the inspector).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { components } from '../test/generated/hive-api.js';
import { HiveApi } from '../test/support/api.js';
import { spawnHive, type HiveProcess } from '../test/support/hive-process.js';
import { waitUntil } from '../test/support/poll.js';
import { isRunning, stopHiveProcess } from '../test/support/process-control.js';
import { parseSamples, sampleValue, type Sample } from '../test/support/prometheus-text.js';
import type { CpuProfile } from './cpu-profile.js';
import { HiveClient } from './hive-client.js';
import { InspectorSession } from './inspector.js';
import { processRssBytes } from './proc.js';
import { ADMIN_API_KEY, HIVE_MAIN, ROOT } from './settings.js';
import type { AgentRow } from './workload.js';

/** Extra settings for Hive from BENCH_HIVE_ENV="DB_POOL_SIZE=20,DB_POOL_MAX_OVERFLOW=60" (for experiments). */
export function extraEnv(): Record<string, string> {
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

export interface BenchHiveOptions {
  /** Open the inspector on a free local port: forced GCs before memory readings, CPU profiles. */
  inspect?: boolean;
  /** Load bench/count-queries.ts (node --import) to count the statements Hive sends. */
  countQueries?: boolean;
  /** Keep-alive sockets of the submitting client. */
  clientSockets?: number;
  /** Hive settings of a phase (e.g. AGENT_PLACEMENT); BENCH_HIVE_ENV still applies over them. */
  env?: Record<string, string>;
  /** Another entry point than BENCH_HIVE_MAIN's (another build, for a comparison in one run). */
  main?: string;
}

export class BenchHive {
  /** The lean submit path (see hive-client.ts). */
  readonly client: HiveClient;
  /** Everything else: agents, status, metrics. */
  readonly api: HiveApi;
  private readonly spawned: HiveProcess;
  private session: InspectorSession | undefined;

  private constructor(spawned: HiveProcess, clientSockets: number) {
    this.spawned = spawned;
    this.client = new HiveClient(spawned.url, ADMIN_API_KEY, clientSockets);
    this.api = new HiveApi(spawned.url, ADMIN_API_KEY);
  }

  /** Starts Hive and waits until it dispatches. */
  static async start(databaseUrl: string, options: BenchHiveOptions = {}): Promise<BenchHive> {
    const nodeArgs = [
      ...(options.inspect === true ? ['--inspect=127.0.0.1:0'] : []),
      ...(options.countQueries === true
        ? ['--import', pathToFileURL(resolve(import.meta.dirname, 'count-queries.js')).href]
        : []),
    ];
    const spawned = await spawnHive(
      {
        NODE_ENV: 'production',
        LOG_LEVEL: process.env.BENCH_HIVE_LOG_LEVEL ?? 'warn',
        DATABASE_URL: databaseUrl,
        HIVE_REPLICA_ID: 'bench',
        HIVE_ADMIN_API_KEY: ADMIN_API_KEY,
        // One client sends every request with one key: the per-key rate limit (600/min by default) must not
        // refuse it.
        THROTTLE_LIMIT: '1000000',
        THROTTLE_TTL_MS: '1000',
        ...options.env,
        ...extraEnv(),
      },
      { main: options.main ?? HIVE_MAIN, nodeArgs, cwd: ROOT },
    );
    const hive = new BenchHive(spawned, options.clientSockets ?? 64);
    await hive.waitUntilRunning();
    return hive;
  }

  get url(): string {
    return this.spawned.url;
  }

  get pid(): number {
    return this.spawned.child.pid ?? NaN;
  }

  /** The last lines Hive wrote (for error messages). */
  output(): string {
    return this.spawned.lines.slice(-40).join('\n');
  }

  async registerAgents(agents: readonly AgentRow[]): Promise<void> {
    for (const agent of agents) await this.api.registerAgent(agent);
  }

  /** GET /api/metrics; undefined when Hive has no metrics endpoint. */
  async metrics(): Promise<Sample[] | undefined> {
    const res = await this.api.request<unknown>('GET', '/api/metrics').catch(() => undefined);
    if (res?.status !== 200 || typeof res.body !== 'string') return undefined;
    return parseSamples(res.body);
  }

  /** Memory from Hive's own metrics when GET /api/metrics exists; else VmRSS from /proc and the inspector's heap. */
  async memory(): Promise<MemoryReading> {
    const metrics = await this.metrics();
    if (metrics !== undefined) {
      const rss = sampleValue(metrics, 'process_resident_memory_bytes') ?? NaN;
      const heap = sampleValue(metrics, 'nodejs_heap_size_used_bytes') ?? NaN;
      if (Number.isFinite(rss) || Number.isFinite(heap))
        return { rssBytes: rss, heapUsedBytes: heap, source: 'GET /api/metrics' };
    }
    const heap =
      this.inspectorUrl() === undefined
        ? undefined
        : await this.inspector<{ usedSize: number }>('Runtime.getHeapUsage');
    return {
      rssBytes: processRssBytes(this.pid),
      heapUsedBytes: heap?.usedSize ?? NaN,
      source: heap === undefined ? '/proc VmRSS (no heap figure)' : '/proc VmRSS + inspector heap (no /api/metrics)',
    };
  }

  /** A full garbage collection through the inspector (only when started with `inspect`); false otherwise. */
  async collectGarbage(): Promise<boolean> {
    if (this.inspectorUrl() === undefined) return false;
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
   * SIGTERM, as Kubernetes stops it (SIGKILL after 30 s); resolves with a complaint (and Hive's last lines) when it
   * did not end well. Nest re-raises SIGTERM after its shutdown hooks unless told to exit, so "killed by SIGTERM"
   * counts as a clean end.
   */
  async stop(): Promise<string | undefined> {
    this.client.close();
    this.session?.close();
    await stopHiveProcess(this.spawned, 30_000);
    const { code, signal } = await this.spawned.exited;
    if (code === 0 || signal === 'SIGTERM') return undefined;
    return `Hive ended with ${code === null ? `signal ${signal}` : `exit code ${code}`}:\n${this.output()}`;
  }

  /** Until GET /api/status says the coordinator is running (it dispatches), or Hive has exited. */
  private async waitUntilRunning(timeoutMs = 60_000): Promise<void> {
    const running = async (): Promise<boolean> => {
      const res = await this.api.request<components['schemas']['StatusResponse']>('GET', '/api/status');
      return res.status === 200 && res.body.system.status === 'running';
    };
    try {
      await waitUntil(async () => !isRunning(this.spawned) || (await running()), {
        describe: 'Hive to start dispatching (GET /api/status: system.status running)',
        timeoutMs,
        intervalMs: 50,
      });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${this.output()}`, { cause: error });
    }
    if (!isRunning(this.spawned)) throw new Error(`Hive exited while starting:\n${this.output()}`);
  }

  /** The inspector's address, from Hive's "Debugger listening on ws://…" line (started with `inspect` only). */
  private inspectorUrl(): string | undefined {
    for (const line of this.spawned.lines) {
      const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
      if (match?.[1] !== undefined) return match[1];
    }
    return undefined;
  }

  private async inspector<T>(method: string, params: object = {}): Promise<T> {
    if (this.session === undefined) {
      const url = this.inspectorUrl();
      if (url === undefined) throw new Error('Hive was started without the inspector');
      this.session = new InspectorSession(url);
    }
    return this.session.call<T>(method, params);
  }
}

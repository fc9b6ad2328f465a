/**
 * The HTTP phase: `GET /health` (no database, no key) served by Hive and by a bare node:http server
 * (`bench/bare-server.ts`), both in processes of their own, loaded in turn by wrk over keep-alive connections in the
 * same run. The ratio of the two rates is what Hive's HTTP stack (router, hooks, security headers, logging, metrics)
 * leaves of what Node itself can serve. Needs `wrk` on the PATH (Debian package wrk).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { BenchHive } from '../hive.js';
import type { PhaseContext } from '../phase.js';
import { processCpuSplitMs } from '../proc.js';
import { fmt, median } from '../stats.js';

const BARE_SERVER = resolve(import.meta.dirname, '../bare-server.js');

interface Load {
  rate: number;
  /** CPU of the serving process per request, µs. */
  cpuUs: number;
  p99Ms: number;
}

async function wrk(url: string, seconds: number, connections: number, pid: number): Promise<Load> {
  const cpu = (): number => {
    const { user, system } = processCpuSplitMs(pid);
    return user + system;
  };
  const before = cpu();
  const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url]);
  const after = cpu();
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
  if (/Non-2xx/.test(stdout) || !Number.isFinite(rate))
    throw new Error(`wrk against ${url} did not get clean 200s:\n${stdout}`);
  return { rate, cpuUs: ((after - before) * 1000) / total, p99Ms: Number(p99?.[1] ?? NaN) * scale };
}

async function startBareServer(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = /listening (\d+)/.exec(chunk.toString('utf8'))?.[1];
  if (port === undefined) throw new Error(`bare server did not start: ${chunk.toString('utf8')}`);
  return {
    url: `http://127.0.0.1:${port}/health`,
    pid: child.pid ?? NaN,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const line = (label: string, load: Load): string =>
  `${label}: ${fmt(load.rate)} req/s, ${fmt(load.cpuUs, 1)} µs CPU per request, p99 ${fmt(load.p99Ms, 2)} ms`;

export async function httpPhase(run: PhaseContext): Promise<void> {
  const { settings, log } = run;
  log(
    `\n== http: GET /health by wrk, ${settings.httpConnections} keep-alive connections, ${settings.httpSeconds} s per run`,
  );
  const db = await run.dbs.create('http');
  try {
    run.summary(await measure(run, db.url));
  } finally {
    await run.dbs.drop(db.name);
  }
}

/** Warms both servers up, then rounds of bare server and Hive; returns the summary: median rates and their ratio. */
async function measure(run: PhaseContext, databaseUrl: string): Promise<string> {
  const { httpSeconds: seconds, httpConnections: connections, rounds } = run.settings;
  const bare = await startBareServer();
  const hive = await BenchHive.start(databaseUrl, { clientSockets: 1 });
  try {
    const ratios: number[] = [];
    const hiveLoads: Load[] = [];
    const bareLoads: Load[] = [];
    // Warm both up (JIT, sockets) before measuring.
    await wrk(bare.url, 2, connections, bare.pid);
    await wrk(`${hive.url}/health`, 2, connections, hive.pid);
    for (let round = 1; round <= rounds; round++) {
      const b = await wrk(bare.url, seconds, connections, bare.pid);
      const h = await wrk(`${hive.url}/health`, seconds, connections, hive.pid);
      bareLoads.push(b);
      hiveLoads.push(h);
      ratios.push(h.rate / b.rate);
      run.log(`  round ${round}: ${line('bare node:http', b)}; ${line('hive', h)}; ratio ${fmt(h.rate / b.rate, 2)}`);
    }
    return (
      `http: GET /health, hive ${fmt(median(hiveLoads.map((l) => l.rate)))} req/s ` +
      `(${fmt(median(hiveLoads.map((l) => l.cpuUs)), 1)} µs CPU each) vs bare node:http ${fmt(median(bareLoads.map((l) => l.rate)))} req/s ` +
      `(${fmt(median(bareLoads.map((l) => l.cpuUs)), 1)} µs CPU each): ratio ${fmt(median(ratios), 2)}` +
      (rounds > 1 ? ` (median of ${rounds} rounds; per round ${ratios.map((r) => fmt(r, 2)).join(', ')})` : '')
    );
  } finally {
    const problem = await hive.stop();
    if (problem !== undefined) run.log(`  ${problem}`);
    await bare.stop();
  }
}

/**
 * `npm run bench`: Hive's throughput beside the raw limit of its dispatch cycle, idle dispatch latency, memory
 * growth, warm-first placement against least-loaded, and how soon results reach clients that do not poll (waits and
 * live events across two replicas), and what the client-facing gateway adds to a chat call and how many it carries,
 * each against a fresh database, with Ollama test agents.
 * See bench/README.md.
 *
 * This file holds the settings, the agents, the database template, the interrupt handling, the order of the phases
 * (bench/phases/*.ts) and the report.
 */
import { tmpdir } from 'node:os';
import { startOllamaAgent } from '../test/support/ollama-agent.js';
import { BenchDatabases, serverUrl } from './databases.js';
import type { PhaseContext } from './phase.js';
import { breakdownPhase } from './phases/breakdown.js';
import { deliveryPhase } from './phases/delivery.js';
import { gatewayAbPhase } from './phases/gateway-ab.js';
import { gatewayPhase } from './phases/gateway.js';
import { httpPhase } from './phases/http.js';
import { latencyPhase } from './phases/latency.js';
import { memoryPhase } from './phases/memory.js';
import { placementPhase } from './phases/placement.js';
import { throughputPhase } from './phases/throughput.js';
import { envInt, envList, envNumber, HIVE_MAIN, type BenchSettings } from './settings.js';
import { MODEL } from './workload.js';

const settings: BenchSettings = {
  tasks: envInt('BENCH_TASKS', 20_000, 1),
  rounds: envInt('BENCH_ROUNDS', 2, 1),
  warmup: envInt('BENCH_WARMUP', 1_000, 0),
  agents: envInt('BENCH_AGENTS', 8, 1),
  agentConcurrency: envInt('BENCH_AGENT_CONCURRENCY', 8, 1),
  clientConcurrency: envInt('BENCH_CLIENT_CONCURRENCY', 32, 1),
  batchSizes: envList('BENCH_BATCH', ['1', '100']).map(Number),
  batchConcurrency: envInt('BENCH_BATCH_CONCURRENCY', 4, 1),
  rawPoolMax: envInt('BENCH_RAW_POOL_MAX', 30, 1),
  breakdownTasks: envInt('BENCH_BREAKDOWN_TASKS', 10_000, 1),
  latencyTasks: envInt('BENCH_LATENCY_TASKS', 500, 1),
  latencyGapMs: envInt('BENCH_LATENCY_GAP_MS', 5, 0),
  memoryTasks: envList('BENCH_MEMORY_TASKS', ['5000', '50000']).map(Number),
  memoryGc: envInt('BENCH_MEMORY_GC', 1) === 1,
  httpSeconds: envInt('BENCH_HTTP_SECONDS', 8, 1),
  httpConnections: envInt('BENCH_HTTP_CONNECTIONS', 32, 1),
  phases: new Set(
    envList('BENCH_PHASES', [
      'http',
      'throughput',
      'breakdown',
      'latency',
      'memory',
      'placement',
      'delivery',
      'gateway',
    ]),
  ),
  placement: {
    tasks: envInt('BENCH_PLACEMENT_TASKS', 2_000, 1),
    agents: envInt('BENCH_PLACEMENT_AGENTS', 4, 1),
    models: envInt('BENCH_PLACEMENT_MODELS', 6, 1),
    maxLoaded: envInt('BENCH_PLACEMENT_MAX_LOADED', 2, 1),
    loadMs: envInt('BENCH_PLACEMENT_LOAD_MS', 300, 0),
    agentConcurrency: envInt('BENCH_PLACEMENT_AGENT_CONCURRENCY', 2, 1),
    answerMs: envInt('BENCH_PLACEMENT_ANSWER_MS', 50, 0),
    zipf: envNumber('BENCH_PLACEMENT_ZIPF', 1, 0),
    seed: envInt('BENCH_PLACEMENT_SEED', 1, 0),
    probeMs: envInt('BENCH_PLACEMENT_PROBE_MS', 1_000, 0),
  },
  profile: envInt('BENCH_PROFILE', 0) === 1,
  profileDir: process.env.BENCH_PROFILE_DIR ?? tmpdir(),
};

const log = (line: string): void => console.log(line);

async function main(): Promise<void> {
  log(`Hive benchmark — ${new Date().toISOString()}, node ${process.version}, ${HIVE_MAIN}`);
  log(`settings: ${JSON.stringify({ ...settings, phases: [...settings.phases] })}`);
  const dbs = new BenchDatabases(serverUrl());
  const agents = await Promise.all(
    Array.from({ length: settings.agents }, () =>
      startOllamaAgent({ models: [MODEL], behavior: { kind: 'ok', delayMs: 0 } }),
    ),
  );
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping after the current measurement, then cleaning up (again to force)');
  });
  const summaryLines: string[] = [];
  const run: PhaseContext = {
    settings,
    dbs,
    agents,
    log,
    summary: (line) => void summaryLines.push(line),
    checkpoint: () => {
      if (interrupted) throw new Error('interrupted');
    },
  };
  let raw: number | undefined; // the raw loop's rate from the throughput phase, for the breakdown's comparison
  const phases: [name: string, phase: () => Promise<unknown>][] = [
    ['http', () => httpPhase(run)],
    ['throughput', async () => (raw = await throughputPhase(run))],
    ['breakdown', () => breakdownPhase(run, raw)],
    ['latency', () => latencyPhase(run)],
    ['memory', () => memoryPhase(run)],
    ['placement', () => placementPhase(run)],
    ['delivery', () => deliveryPhase(run)],
    ['gateway', () => gatewayPhase(run)],
    ['gateway-ab', () => gatewayAbPhase(run)],
  ];
  try {
    await dbs.prepareTemplate();
    for (const [name, phase] of phases) {
      if (!settings.phases.has(name)) continue;
      run.checkpoint();
      await phase();
    }
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await dbs.dropAll();
  }
  log('\n== results');
  for (const line of summaryLines) log(line);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});

/**
 * What the benchmark runs with: its settings from BENCH_* variables (bench/README.md lists them), where the
 * repository and Hive's entry point are, and the admin key it gives Hive.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

export interface BenchSettings {
  /** Tasks per throughput run (Hive and raw). */
  tasks: number;
  /** Raw then Hive, this many times, each on fresh databases: medians resist the load of a shared machine. */
  rounds: number;
  /** Unmeasured tasks before each throughput run. */
  warmup: number;
  agents: number;
  /** Each agent's max_concurrent. */
  agentConcurrency: number;
  /** POST /api/tasks in flight. */
  clientConcurrency: number;
  /** Hive's throughput is measured once per size: 1 is POST /api/tasks, more is POST /api/tasks/batch. */
  batchSizes: number[];
  /** POST /api/tasks/batch in flight. */
  batchConcurrency: number;
  /** The raw loop's pg pool size. */
  rawPoolMax: number;
  breakdownTasks: number;
  latencyTasks: number;
  /** Pause after each latency sample, so that Hive is idle again. */
  latencyGapMs: number;
  /** Cumulative task counts at which memory is read. */
  memoryTasks: number[];
  /** Force a GC through the inspector before memory readings. */
  memoryGc: boolean;
  httpSeconds: number;
  httpConnections: number;
  phases: Set<string>;
  placement: PlacementSettings;
  /** Profile Hive during the measured stretches (CPU profile + statements per task); slows it down. */
  profile: boolean;
  /** Where the .cpuprofile files go. */
  profileDir: string;
}

/** The placement phase (BENCH_PLACEMENT_*): agents with model memory, a skewed mix of models, both strategies. */
export interface PlacementSettings {
  tasks: number;
  agents: number;
  /** Models every agent serves (`bench-m1:7b` …). */
  models: number;
  /** Models an agent holds in memory at once. */
  maxLoaded: number;
  /** How long an agent takes to load a model (one load at a time per agent). */
  loadMs: number;
  /** Each agent's max_concurrent. */
  agentConcurrency: number;
  /** How long an agent takes to answer once the model is loaded. */
  answerMs: number;
  /** Model k (1-based) is drawn with weight 1 / k^zipf. */
  zipf: number;
  /** Seed of the draw: the same task list for both strategies and from run to run. */
  seed: number;
  /** Hive's AGENT_PROBE_INTERVAL_MS for this phase; 0 leaves Hive's default. */
  probeMs: number;
}

export function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return value;
}

export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return value;
}

export function envList(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The repository root (this file runs as dist/bench/settings.js). */
export const ROOT = resolve(import.meta.dirname, '../..');

/** Hive's entry point: the production build, or BENCH_HIVE_MAIN (e.g. another build). */
export const HIVE_MAIN = process.env.BENCH_HIVE_MAIN ?? resolve(ROOT, 'dist/apps/hive-api/src/main.js');

/**
 * The admin key the benchmark gives Hive (HIVE_ADMIN_API_KEY is required in production) and presents on every
 * request: checked in memory, no database lookup.
 */
export const ADMIN_API_KEY = `hive_bench_${randomBytes(24).toString('base64url')}`;

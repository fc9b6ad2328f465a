/** What bench/run.ts gives each phase (bench/phases/*.ts). */
import type { OllamaAgent } from '../test/support/ollama-agent.js';
import type { BenchDatabases } from './databases.js';
import type { BenchSettings } from './settings.js';

export interface PhaseContext {
  readonly settings: BenchSettings;
  /** Where the phase creates its fresh database (and drops it again). */
  readonly dbs: BenchDatabases;
  /** The zero-latency test agents, shared by every phase; reset between measurements. */
  readonly agents: readonly OllamaAgent[];
  /** A line of the running log. */
  log(line: string): void;
  /** A line of the `== results` block printed at the end. */
  summary(line: string): void;
  /** Between measurements: throws once the run was interrupted, so that the finally blocks clean up. */
  checkpoint(): void;
}

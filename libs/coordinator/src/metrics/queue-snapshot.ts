import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { HiveConfig } from '@hive/config';
import { describeError, TaskStore, type TaskCounts } from '@hive/database';
import { MetricsRegistry } from '@hive/metrics';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import type { AgentView } from '../agents/agent-view.js';

/** Short enough for a 15 s scrape to see fresh numbers, long enough that a scrape reads the database once. */
const TTL_MS = 5_000;

export interface QueueSnapshot {
  readonly tasks: TaskCounts;
  readonly agents: readonly AgentView[];
}

/**
 * Tasks by state and agents with their load, read from the database (so every replica reports the same truth) at
 * most once per TTL however many gauges and scrapes ask. A read is bounded by HEALTH_CHECK_TIMEOUT_MS, and while one
 * is still stuck (a hanging database) no second one is started, so scrapes never pile up connections.
 */
@Injectable()
export class QueueSnapshotReader {
  private readonly logger = new Logger('Metrics');
  private cached: { readonly at: number; readonly snapshot: Promise<QueueSnapshot | undefined> } | undefined;
  private reading: Promise<QueueSnapshot> | undefined;
  private readonly failures: Counter;

  constructor(
    private readonly tasks: TaskStore,
    private readonly agents: AgentRegistry,
    private readonly config: HiveConfig,
    registry: MetricsRegistry,
  ) {
    this.failures = new Counter({
      name: 'hive_metrics_db_read_failures_total',
      help: 'Scrape-time reads of the tasks and agents tables that failed or timed out; hive_tasks and hive_agent_* are left out of that scrape.',
      registers: [registry],
      // Waits for this scrape's read, so that a failure is counted in the scrape that leaves the series out.
      collect: async () => void (await this.read()),
    });
  }

  /** The snapshot, or undefined when the database could not be read in time (counted and logged). */
  read(now = Date.now()): Promise<QueueSnapshot | undefined> {
    if (this.cached === undefined || now - this.cached.at >= TTL_MS) {
      this.cached = { at: now, snapshot: this.readBounded() };
    }
    return this.cached.snapshot;
  }

  private async readBounded(): Promise<QueueSnapshot | undefined> {
    this.reading ??= this.readDatabase().finally(() => (this.reading = undefined));
    let timer: NodeJS.Timeout | undefined;
    const limit = this.config.healthCheckTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit);
    });
    try {
      return await Promise.race([this.reading, timeout]);
    } catch (error) {
      this.failures.inc();
      this.logger.warn(
        { err: describeError(error) },
        `Could not read tasks and agents for /api/metrics: ${describeError(error)}`,
      );
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private async readDatabase(): Promise<QueueSnapshot> {
    const [tasks, agents] = await Promise.all([this.tasks.countsByState(), this.agents.list()]);
    return { tasks, agents };
  }
}

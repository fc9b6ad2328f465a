import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { HiveConfig } from '@hive/config';
import { describeError, TaskStore, type TaskCounts } from '@hive/database';
import { MetricsRegistry } from '@hive/metrics';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import type { AgentView } from '../agents/agent-view.js';
import { ScrapeRead } from './scrape-read.js';

export interface QueueSnapshot {
  readonly tasks: TaskCounts;
  readonly agents: readonly AgentView[];
}

/**
 * Tasks by state and agents with their load, read from the database (so every replica reports the same truth) as a
 * ScrapeRead bounded by HEALTH_CHECK_TIMEOUT_MS.
 */
@Injectable()
export class QueueSnapshotReader {
  private readonly logger = new Logger('Metrics');
  private readonly failures: Counter;
  private readonly snapshot: ScrapeRead<QueueSnapshot>;

  constructor(
    private readonly tasks: TaskStore,
    private readonly agents: AgentRegistry,
    config: HiveConfig,
    registry: MetricsRegistry,
  ) {
    this.failures = new Counter({
      name: 'hive_metrics_db_read_failures_total',
      help: 'Scrape-time reads of the tasks and agents tables that failed or timed out; hive_tasks and hive_agent_* are left out of that scrape.',
      registers: [registry],
      // Waits for this scrape's read, so that a failure is counted in the scrape that leaves the series out.
      collect: async () => void (await this.read()),
    });
    this.snapshot = new ScrapeRead(
      () => this.readDatabase(),
      config.healthCheckTimeoutMs,
      (error) => {
        this.failures.inc();
        this.logger.warn(
          { err: describeError(error) },
          `Could not read tasks and agents for /api/metrics: ${describeError(error)}`,
        );
      },
    );
  }

  /** The snapshot, or undefined when the database could not be read in time (counted and logged). */
  read(now = Date.now()): Promise<QueueSnapshot | undefined> {
    return this.snapshot.get(now);
  }

  private async readDatabase(): Promise<QueueSnapshot> {
    const [tasks, agents] = await Promise.all([this.tasks.countsByState(), this.agents.list()]);
    return { tasks, agents };
  }
}

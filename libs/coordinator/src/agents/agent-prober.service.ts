import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { describeError } from '@hive/database';
import { OllamaClient, type AgentAddress } from '../client/ollama-client.service.js';
import { AgentHealth } from './agent-health.js';

/**
 * Probes every enabled agent (GET /api/tags) once per AGENT_PROBE_INTERVAL_MS. Each probe is claimed in the
 * database first, so with many replicas each agent is still probed once per interval, not once per replica.
 */
@Injectable()
export class AgentProber implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentProber');
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    private readonly config: HiveConfig,
    private readonly client: OllamaClient,
    private readonly health: AgentHealth,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.coordinator.agentProbeIntervalMs;
    this.timer = setInterval(() => {
      this.round = this.probeDue();
    }, interval);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /** Probes the agents no replica has probed within the interval. */
  async probeDue(): Promise<void> {
    try {
      const due: AgentAddress[] = await this.db.query(
        `UPDATE agents SET probed_at = now()
          WHERE enabled AND (probed_at IS NULL OR probed_at <= now() - $1 * interval '1 millisecond')
          RETURNING id, endpoint, max_concurrent`,
        [this.config.coordinator.agentProbeIntervalMs * 0.9],
      );
      await Promise.all(due.map((agent) => this.probe(agent)));
    } catch (error) {
      this.logger.warn(`Agent probe round failed: ${describeError(error)}`);
    }
  }

  private async probe(agent: AgentAddress): Promise<void> {
    try {
      await this.client.probe(agent);
    } catch (error) {
      await this.health.recordFailure(agent.id, `probe failed: ${describeError(error)}`);
      return;
    }
    await this.health.recordProbeSuccess(agent.id);
  }
}

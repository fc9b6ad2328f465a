import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { AgentStore } from '@hive/database';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';

/** Counts an agent's consecutive failures (calls and probes alike) and takes it offline at AGENT_MAX_FAILURES. */
@Injectable()
export class AgentHealth {
  private readonly logger = new Logger('AgentHealth');

  constructor(
    private readonly store: AgentStore,
    private readonly config: HiveConfig,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async recordFailure(agentId: string, error: string): Promise<void> {
    const record = await this.store.recordFailure(agentId, error, this.config.coordinator.agentMaxFailures);
    if (record?.wentOffline === true) {
      this.logger.warn(
        { agentId, consecutiveFailures: record.consecutiveFailures, err: error },
        `Agent ${agentId} is offline after ${record.consecutiveFailures} consecutive failures: ${error}`,
      );
    }
  }

  /** A probe answered: the agent is online again and may get tasks. */
  async recordProbeSuccess(agentId: string): Promise<void> {
    if (await this.store.recordProbeSuccess(agentId)) {
      this.logger.log({ agentId }, `Agent ${agentId} answers again and is back online`);
      this.announcer.announce('capacity');
    }
  }
}

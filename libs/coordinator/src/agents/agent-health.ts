import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { AgentStore, type ProbeReport } from '@hive/database';

/** An agent as a probe or call reached it: what it learned holds only while the agent is still there. */
interface AgentAt {
  id: string;
  endpoint: string;
}
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';

/**
 * What calls and probes teach about agents: consecutive failures take an agent offline at AGENT_MAX_FAILURES, a
 * probe stores the models it serves, a call may find a model gone.
 */
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

  /** The agent answered 429 or 503 with a Retry-After: no replica sends it a task before that time. */
  async recordPause(agentId: string, ms: number): Promise<void> {
    await this.store.pause(agentId, ms);
    this.logger.warn({ agentId, retryAfterMs: ms }, `Agent ${agentId} asked not to be called for ${ms} ms`);
  }

  /** A call found the agent no longer serves `model`: no task for it goes there until a probe finds it again. */
  async recordModelMissing({ id: agentId, endpoint }: AgentAt, model: string): Promise<void> {
    await this.store.dropModel(agentId, endpoint, model);
    this.logger.warn({ agentId, model }, `Agent ${agentId} no longer serves model ${model}`);
  }

  /**
   * A probe answered with the models the agent serves: it is online and may get tasks; models it serves now may
   * let waiting tasks run, so the dispatchers are woken when they changed.
   */
  async recordProbeSuccess({ id: agentId, endpoint }: AgentAt, report: ProbeReport): Promise<void> {
    const record = await this.store.recordProbeSuccess(agentId, endpoint, report);
    if (record === undefined) return;
    if (record.backOnline) this.logger.log({ agentId }, `Agent ${agentId} answers again and is back online`);
    if (record.defaultModelMissing && record.modelsChanged) {
      this.logger.warn({ agentId }, `Agent ${agentId} does not serve its default model (see its last_error)`);
    }
    if (record.backOnline || record.modelsChanged) this.announcer.announce('capacity');
  }
}

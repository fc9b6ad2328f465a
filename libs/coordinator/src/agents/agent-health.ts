import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { queryRows } from '@hive/database';

/** Counts an agent's consecutive failures (calls and probes alike) and takes it offline at AGENT_MAX_FAILURES. */
@Injectable()
export class AgentHealth {
  private readonly logger = new Logger('AgentHealth');

  constructor(
    private readonly db: DataSource,
    private readonly config: HiveConfig,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async recordFailure(agentId: string, error: string): Promise<void> {
    const rows = await queryRows<{ offline: boolean; was_offline: boolean; consecutive_failures: number }>(
      this.db,
      `UPDATE agents a SET consecutive_failures = a.consecutive_failures + 1, last_error = $2,
              offline = a.offline OR a.consecutive_failures + 1 >= $3, updated_at = now()
         FROM (SELECT id, offline AS was_offline FROM agents WHERE id = $1 FOR UPDATE) before
        WHERE a.id = before.id
        RETURNING a.offline, before.was_offline, a.consecutive_failures`,
      [agentId, error.slice(0, 1000), this.config.coordinator.agentMaxFailures],
    );
    const row = rows[0];
    if (row?.offline === true && !row.was_offline) {
      this.logger.warn(`Agent ${agentId} is offline after ${row.consecutive_failures} consecutive failures: ${error}`);
    }
  }

  /** A probe answered: the agent is online again and may get tasks. */
  async recordProbeSuccess(agentId: string): Promise<void> {
    const rows = await queryRows<{ was_offline: boolean }>(
      this.db,
      `UPDATE agents a SET consecutive_failures = 0, offline = false, last_seen = now(), updated_at = now()
         FROM (SELECT id, offline AS was_offline FROM agents WHERE id = $1 FOR UPDATE) before
        WHERE a.id = before.id
        RETURNING before.was_offline`,
      [agentId],
    );
    if (rows[0]?.was_offline === true) {
      this.logger.log(`Agent ${agentId} answers again and is back online`);
      this.announcer.announce('capacity');
    }
  }
}

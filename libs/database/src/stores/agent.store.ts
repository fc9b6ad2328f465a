import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { QueueChannel } from '../queue/queue-channel.js';
import { queryRows } from '../support/query-rows.js';
import { AGENT_SQL } from './agents/agent.sql.js';
import type {
  AgentAddress,
  AgentChanges,
  AgentRecord,
  AgentRemoval,
  FailureRecord,
  NewAgent,
} from './agents/agent.types.js';
import { TRANSITION_SQL } from './tasks/transitions.sql.js';

/** Longest last_error kept. */
const MAX_ERROR_LENGTH = 1_000;

/** The agents table. An agent's load is never stored: it is counted from the tasks table. */
@Injectable()
export class AgentStore {
  constructor(
    private readonly db: DataSource,
    private readonly channel: QueueChannel,
  ) {}

  /** False when an agent with this id exists. */
  async register(agent: NewAgent): Promise<boolean> {
    const rows = await queryRows(this.db, AGENT_SQL.register, [
      agent.id,
      agent.endpoint,
      agent.model,
      agent.specialty,
      agent.max_concurrent,
      agent.kind,
    ]);
    return rows.length === 1;
  }

  list(): Promise<AgentRecord[]> {
    return queryRows<AgentRecord>(this.db, `${AGENT_SQL.select} ORDER BY a.id`);
  }

  async get(id: string): Promise<AgentRecord | undefined> {
    const rows = await queryRows<AgentRecord>(this.db, `${AGENT_SQL.select} WHERE a.id = $1`, [id]);
    return rows[0];
  }

  /** False when no agent has this id. */
  async update(id: string, changes: AgentChanges): Promise<boolean> {
    const rows = await queryRows(this.db, AGENT_SQL.update, [
      id,
      changes.endpoint ?? null,
      changes.model ?? null,
      changes.max_concurrent ?? null,
      changes.enabled ?? null,
    ]);
    return rows.length === 1;
  }

  /**
   * Removes an agent in one transaction. While it runs tasks that is refused unless `force`: then its running tasks
   * go back to the queue (the interrupted attempt does not count) and every replica is told, at commit, to abort
   * those calls on this agent only (a replica may already run a requeued task again elsewhere; every replica that
   * hears a cancel also looks for work, so no separate wake-up is needed).
   */
  remove(id: string, force: boolean): Promise<AgentRemoval> {
    return this.db.transaction(async (tx): Promise<AgentRemoval> => {
      const agent = await queryRows(tx, AGENT_SQL.lockForRemoval, [id]);
      if (agent.length === 0) return { outcome: 'missing' };
      const running = (await queryRows<{ id: string }>(tx, AGENT_SQL.lockRunningTasks, [id])).map((t) => t.id);
      if (running.length > 0 && !force) return { outcome: 'busy', running: running.length };
      if (running.length > 0) {
        await tx.query(TRANSITION_SQL.requeue, [running]);
        await this.channel.notifyCancel(running, id, tx);
      }
      await tx.query(AGENT_SQL.delete, [id]);
      return { outcome: 'removed', requeued: running.length };
    });
  }

  /** The specialties at least one registered agent serves. */
  async specialties(): Promise<string[]> {
    const rows = await queryRows<{ specialty: string }>(this.db, AGENT_SQL.specialties);
    return rows.map((r) => r.specialty);
  }

  /** The enabled agents no replica probed within 0.9 × `intervalMs`, now marked as probed by this one. */
  takeDueProbes(intervalMs: number): Promise<AgentAddress[]> {
    return queryRows<AgentAddress>(this.db, AGENT_SQL.takeDueProbes, [intervalMs * 0.9]);
  }

  /** Counts a failed call or probe; the agent goes offline at `maxFailures` in a row. */
  async recordFailure(id: string, error: string, maxFailures: number): Promise<FailureRecord | undefined> {
    const rows = await queryRows<{ offline: boolean; was_offline: boolean; consecutive_failures: number }>(
      this.db,
      AGENT_SQL.recordFailure,
      [id, error.slice(0, MAX_ERROR_LENGTH), maxFailures],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { consecutiveFailures: row.consecutive_failures, wentOffline: row.offline && !row.was_offline };
  }

  /** A probe answered; true when that brought the agent back online. */
  async recordProbeSuccess(id: string): Promise<boolean> {
    const rows = await queryRows<{ was_offline: boolean }>(this.db, AGENT_SQL.recordProbeSuccess, [id]);
    return rows[0]?.was_offline === true;
  }
}

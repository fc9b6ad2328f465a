import { Injectable } from '@nestjs/common';
import { QueueChannel } from '../queue/queue-channel.js';
import { Sql } from '../sql/sql.js';
import { AGENT_SQL } from './agents/agent.sql.js';
import type {
  AgentAddress,
  AgentChanges,
  AgentRecord,
  AgentRemoval,
  FailureRecord,
  NewAgent,
  ProbeRecord,
  ProbeReport,
} from './agents/agent.types.js';
import { TRANSITION_SQL } from './tasks/transitions.sql.js';

/** Longest last_error kept. */
const MAX_ERROR_LENGTH = 1_000;

/** The agents table. An agent's load is never stored: it is counted from the tasks table. */
@Injectable()
export class AgentStore {
  constructor(
    private readonly sql: Sql,
    private readonly channel: QueueChannel,
  ) {}

  /** False when an agent with this id exists. */
  async register(agent: NewAgent): Promise<boolean> {
    const rows = await this.sql.rows(AGENT_SQL.register, [
      agent.id,
      agent.endpoint,
      agent.model,
      agent.specialty,
      agent.max_concurrent,
      agent.kind,
      agent.api_key_encrypted ?? null,
    ]);
    return rows.length === 1;
  }

  list(): Promise<AgentRecord[]> {
    return this.sql.rows<AgentRecord>(AGENT_SQL.list);
  }

  /** How to reach an agent (with its API key, encrypted), or undefined when it is gone. */
  async address(id: string): Promise<AgentAddress | undefined> {
    return (await this.sql.rows<AgentAddress>(AGENT_SQL.address, [id]))[0];
  }

  async get(id: string): Promise<AgentRecord | undefined> {
    const rows = await this.sql.rows<AgentRecord>(AGENT_SQL.get, [id]);
    return rows[0];
  }

  /** False when no agent has this id. */
  async update(id: string, changes: AgentChanges): Promise<boolean> {
    const rows = await this.sql.rows(AGENT_SQL.update, [
      id,
      changes.endpoint ?? null,
      changes.model ?? null,
      changes.max_concurrent ?? null,
      changes.enabled ?? null,
      changes.api_key_encrypted !== undefined,
      changes.api_key_encrypted ?? null,
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
    return this.sql.transaction(async (tx): Promise<AgentRemoval> => {
      const agent = await tx.rows(AGENT_SQL.lockForRemoval, [id]);
      if (agent.length === 0) return { outcome: 'missing' };
      const running = (await tx.rows<{ id: string }>(AGENT_SQL.lockRunningTasks, [id])).map((t) => t.id);
      if (running.length > 0 && !force) return { outcome: 'busy', running: running.length };
      if (running.length > 0) {
        await tx.rows(TRANSITION_SQL.requeue, [running]);
        await this.channel.notifyCancel(running, id, tx);
      }
      await tx.rows(AGENT_SQL.delete, [id]);
      return { outcome: 'removed', requeued: running.length };
    });
  }

  /** The enabled agents no replica probed within 0.9 × `intervalMs`, now marked as probed by this one. */
  takeDueProbes(intervalMs: number): Promise<AgentAddress[]> {
    return this.sql.rows<AgentAddress>(AGENT_SQL.takeDueProbes, [intervalMs * 0.9]);
  }

  /** One agent to probe at once (it is new, or it changed), marked as probed now; undefined if gone or disabled. */
  async takeProbe(id: string): Promise<AgentAddress | undefined> {
    const rows = await this.sql.rows<AgentAddress>(AGENT_SQL.takeProbe, [id]);
    return rows[0];
  }

  /** Counts a failed call or probe; the agent goes offline at `maxFailures` in a row. */
  async recordFailure(id: string, error: string, maxFailures: number): Promise<FailureRecord | undefined> {
    const rows = await this.sql.rows<{ offline: boolean; was_offline: boolean; consecutive_failures: number }>(
      AGENT_SQL.recordFailure,
      [id, error.slice(0, MAX_ERROR_LENGTH), maxFailures],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { consecutiveFailures: row.consecutive_failures, wentOffline: row.offline && !row.was_offline };
  }

  /**
   * A probe of the agent at `endpoint` answered with what it found: the agent is online, its models and loaded models
   * stored; undefined when it is gone or has moved since.
   */
  async recordProbeSuccess(id: string, endpoint: string, report: ProbeReport): Promise<ProbeRecord | undefined> {
    const loaded = report.loaded === undefined ? null : JSON.stringify(report.loaded);
    const rows = await this.sql.rows<{ was_offline: boolean; default_missing: boolean; models_changed: boolean }>(
      AGENT_SQL.recordProbeSuccess,
      [id, report.models, loaded, endpoint],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { backOnline: row.was_offline, defaultModelMissing: row.default_missing, modelsChanged: row.models_changed };
  }

  /** Whether any agent has an API key stored (encrypted). */
  async hasStoredKeys(): Promise<boolean> {
    const rows = await this.sql.rows<{ found: boolean }>(AGENT_SQL.hasStoredKeys);
    return rows[0]?.found === true;
  }

  /** The agent asked not to be called for `ms` (Retry-After): claims pass it over until then. */
  async pause(id: string, ms: number): Promise<void> {
    await this.sql.rows(AGENT_SQL.pause, [id, ms]);
  }

  /**
   * A call to the agent at `endpoint` found that it no longer serves `model` (its name as served): it is taken off
   * its list, unless the agent moved since.
   */
  async dropModel(id: string, endpoint: string, model: string): Promise<void> {
    await this.sql.rows(AGENT_SQL.dropModel, [id, model, endpoint]);
  }
}

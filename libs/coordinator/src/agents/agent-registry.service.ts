import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OllamaClient } from '../client/ollama-client.service.js';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { CANCEL_AGENT_SEPARATOR, CANCEL_CHANNEL } from '../dispatch/queue-listener.js';
import { REQUEUE_UNCOUNTED } from '../dispatch/task-outcomes.js';
import { agentStatus, type AgentStatus } from './agent-status.js';
import { queryRows } from '@hive/database';

export interface NewAgent {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
  kind: string;
}

export interface AgentChanges {
  endpoint?: string;
  model?: string;
  max_concurrent?: number;
  enabled?: boolean;
}

export interface AgentView {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  kind: string;
  max_concurrent: number;
  enabled: boolean;
  current_tasks: number;
  status: AgentStatus;
  consecutive_failures: number;
  last_seen: Date | null;
  last_error: string | null;
  created_at: Date;
}

type AgentRow = Omit<AgentView, 'status'> & { offline: boolean };

const SELECT_AGENTS = `
  SELECT a.id, a.endpoint, a.model, a.specialty, a.kind, a.max_concurrent, a.enabled, a.offline,
         a.consecutive_failures, a.last_seen, a.last_error, a.created_at,
         (SELECT count(*)::int FROM tasks t WHERE t.assigned_agent = a.id AND t.status = 'in_progress') AS current_tasks
    FROM agents a`;

function toView({ offline, ...row }: AgentRow): AgentView {
  return { ...row, status: agentStatus({ ...row, offline }) };
}

/** The agent registry: one row per agent; load and status are derived from the tasks table. */
@Injectable()
export class AgentRegistry {
  constructor(
    private readonly db: DataSource,
    private readonly client: OllamaClient,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async register(agent: NewAgent): Promise<void> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, kind) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [agent.id, agent.endpoint, agent.model, agent.specialty, agent.max_concurrent, agent.kind],
    );
    if (rows.length === 0) throw new ConflictException(`Agent ${agent.id} is already registered`);
    this.announcer.announce('capacity');
  }

  async list(): Promise<AgentView[]> {
    const rows: AgentRow[] = await this.db.query(`${SELECT_AGENTS} ORDER BY a.id`);
    return rows.map(toView);
  }

  async get(id: string): Promise<AgentView> {
    const rows: AgentRow[] = await this.db.query(`${SELECT_AGENTS} WHERE a.id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw new NotFoundException(`Agent ${id} is not registered`);
    return toView(row);
  }

  async update(id: string, changes: AgentChanges): Promise<AgentView> {
    const rows = await queryRows(
      this.db,
      `UPDATE agents SET endpoint = coalesce($2, endpoint), model = coalesce($3, model),
              max_concurrent = coalesce($4, max_concurrent), enabled = coalesce($5, enabled), updated_at = now()
        WHERE id = $1 RETURNING id`,
      [id, changes.endpoint ?? null, changes.model ?? null, changes.max_concurrent ?? null, changes.enabled ?? null],
    );
    if (rows.length === 0) throw new NotFoundException(`Agent ${id} is not registered`);
    if (changes.endpoint !== undefined) this.client.forget(id);
    this.announcer.announce('capacity');
    return this.get(id);
  }

  /**
   * Removes an agent. While it runs tasks that is refused, unless `force`: then its running tasks go back to the
   * queue (the interrupted attempt does not count) and the replicas running them abort their calls.
   */
  async remove(id: string, force: boolean): Promise<{ requeued: number }> {
    return this.db.transaction(async (m) => {
      const agent: unknown[] = await m.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [id]);
      if (agent.length === 0) throw new NotFoundException(`Agent ${id} is not registered`);
      const running: { id: string }[] = await m.query(
        `SELECT id FROM tasks WHERE assigned_agent = $1 AND status = 'in_progress' ORDER BY id FOR UPDATE`,
        [id],
      );
      if (running.length > 0 && !force) {
        throw new ConflictException(
          `Agent ${id} is running ${running.length} task(s); use ?force=true to requeue them`,
        );
      }
      if (running.length > 0) {
        await m.query(`UPDATE tasks SET ${REQUEUE_UNCOUNTED} WHERE id = ANY($1)`, [running.map((t) => t.id)]);
        // Only the calls on this agent: a replica may already run a requeued task again elsewhere. Every replica
        // that hears a cancel also looks for work, so no separate wake-up is needed.
        await m.query(`SELECT pg_notify($2, id::text || $3 || $4) FROM unnest($1::uuid[]) AS id`, [
          running.map((t) => t.id),
          CANCEL_CHANNEL,
          CANCEL_AGENT_SEPARATOR,
          id,
        ]);
      }
      await m.query(`DELETE FROM agents WHERE id = $1`, [id]);
      this.client.forget(id);
      return { requeued: running.length };
    });
  }

  /** The specialties at least one registered agent serves. */
  async specialties(): Promise<string[]> {
    const rows: { specialty: string }[] = await this.db.query(`SELECT DISTINCT specialty FROM agents ORDER BY 1`);
    return rows.map((r) => r.specialty);
  }
}

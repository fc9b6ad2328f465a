import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { TASK_STATUSES, type TaskStatus, queryRows } from '@hive/database';
import { CoordinatorMetrics } from '../coordinator.metrics.js';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import { Dispatcher } from '../dispatch/dispatcher.service.js';
import { CANCEL_CHANNEL, WAKE_CHANNEL } from '../dispatch/queue-listener.js';
import { AbortReason } from '../client/agent-call-error.js';
import { taskColumns, type TaskCounts, type TaskView } from './task-views.js';

export interface NewTask {
  type: string;
  priority: number;
  context: Record<string, unknown>;
  max_attempts?: number;
  timeout_ms?: number;
}

export interface TaskFilter {
  status?: TaskStatus;
  type?: string;
  agent?: string;
  limit: number;
  offset: number;
}

/** Submitting, reading and cancelling tasks. Every read comes from the database, so all replicas agree. */
@Injectable()
export class TaskService {
  constructor(
    private readonly db: DataSource,
    private readonly config: HiveConfig,
    private readonly agents: AgentRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: CoordinatorMetrics,
  ) {}

  /** Stores the task and wakes every replica's dispatcher in the same round trip. */
  async submit(task: NewTask): Promise<TaskView> {
    const rows: TaskView[] = await this.db.query(
      `WITH served AS (SELECT 1 FROM agents WHERE specialty = $1 LIMIT 1),
       inserted AS (
         INSERT INTO tasks (type, priority, context, max_attempts, timeout_ms)
         SELECT $1, $2, $3, $4, $5 FROM served
         RETURNING ${taskColumns()}
       )
       SELECT inserted.* FROM inserted CROSS JOIN LATERAL pg_notify($6, '') AS notify`,
      [
        task.type,
        task.priority,
        JSON.stringify(task.context),
        task.max_attempts ?? this.config.coordinator.taskMaxAttempts,
        task.timeout_ms ?? null,
        WAKE_CHANNEL,
      ],
    );
    const row = rows[0];
    if (row === undefined) {
      const served = await this.agents.specialties();
      throw new BadRequestException(
        `No registered agent serves task type "${task.type}"; served types: ${served.length > 0 ? served.join(', ') : 'none'}`,
      );
    }
    this.dispatcher.wake();
    return row;
  }

  async get(id: string): Promise<TaskView> {
    const rows: TaskView[] = await this.db.query(`SELECT ${taskColumns()} FROM tasks WHERE id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw new NotFoundException(`Task ${id} does not exist`);
    return row;
  }

  /** Newest first; `total` counts every task, `filtered` those matching the filter. */
  async list(filter: TaskFilter): Promise<{ tasks: TaskView[]; total: number; filtered: number }> {
    const where = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
                   AND ($3::text IS NULL OR assigned_agent = $3)`;
    const params = [filter.status ?? null, filter.type ?? null, filter.agent ?? null];
    const [tasks, counts] = await Promise.all([
      this.db.query<TaskView[]>(
        `SELECT ${taskColumns()} FROM tasks WHERE ${where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`,
        [...params, filter.limit, filter.offset],
      ),
      this.db.query<{ total: number; filtered: number }[]>(
        `SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${where}))::int AS filtered FROM tasks`,
        params,
      ),
    ]);
    return { tasks, total: counts[0]?.total ?? 0, filtered: counts[0]?.filtered ?? 0 };
  }

  /**
   * A pending task is cancelled at once. A running one is marked cancelled too, and every replica is told, so the
   * one running it aborts the agent call. A finished task cannot be cancelled.
   */
  async cancel(id: string): Promise<TaskView> {
    const rows = await queryRows<TaskView & { was: TaskStatus }>(
      this.db,
      `WITH before AS (SELECT id, status AS was FROM tasks WHERE id = $1 FOR UPDATE)
       UPDATE tasks t SET status = 'cancelled', completed_at = now(), lease_owner = NULL, lease_expires_at = NULL,
              cancel_requested = true, updated_at = now()
         FROM before
        WHERE t.id = before.id AND t.status IN ('pending', 'in_progress')
       RETURNING ${taskColumns('t')}, before.was`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) {
      const current = await this.get(id);
      throw new ConflictException(`Task ${id} is already ${current.status} and cannot be cancelled`);
    }
    const { was, ...view } = row;
    if (was === 'in_progress') {
      await this.db.query(`SELECT pg_notify($1, $2)`, [CANCEL_CHANNEL, id]);
      this.dispatcher.abort(id, new AbortReason('cancelled', 'cancelled by request'));
    } else {
      this.metrics.taskFinished(view.type, 'cancelled');
    }
    return view;
  }

  async counts(): Promise<TaskCounts> {
    const rows: { status: TaskStatus; n: number }[] = await this.db.query(
      `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`,
    );
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as TaskCounts;
    counts.total = 0;
    for (const { status, n } of rows) {
      counts[status] = n;
      counts.total += n;
    }
    return counts;
  }
}

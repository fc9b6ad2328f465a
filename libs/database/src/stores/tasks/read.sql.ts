import { statement } from '../../sql/statement.js';
import { viewColumns } from './task-columns.js';

const FILTER = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
                AND ($3::text IS NULL OR assigned_agent = $3) AND ($4::text IS NULL OR model = $4)`;

/** A task's webhook delivery (WebhookDeliveryState), or null. */
const WEBHOOK = `(SELECT jsonb_build_object(
     'status', w.status, 'attempts', w.attempts, 'last_status', w.last_status, 'last_error', w.last_error,
     'next_attempt_at', CASE WHEN w.status = 'pending' THEN w.next_attempt_at END, 'finished_at', w.finished_at)
   FROM webhook_deliveries w WHERE w.task_id = tasks.id) AS webhook`;

/** Reads of the tasks table. */
export const READ_SQL = {
  /** $1 id. */
  get: statement('task_read.get', `SELECT ${viewColumns()}, ${WEBHOOK} FROM tasks WHERE id = $1`),
  /** Tasks with their status history. $1 ids. */
  withEvents: statement(
    'task_read.withEvents',
    `SELECT ${viewColumns()}, ${WEBHOOK}, events FROM tasks WHERE id = ANY($1::uuid[])`,
  ),
  /** Newest first. $1 status, $2 type, $3 agent, $4 model (each may be null), $5 limit, $6 offset. */
  page: statement(
    'task_read.page',
    `SELECT ${viewColumns()}, ${WEBHOOK} FROM tasks WHERE ${FILTER} ORDER BY created_at DESC, id LIMIT $5 OFFSET $6`,
  ),
  /** Every task, and those matching the filter ($1–$4 as in `page`). */
  pageCounts: statement(
    'task_read.pageCounts',
    `SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${FILTER}))::int AS filtered FROM tasks`,
  ),
  /** Whether any pending task is due (the partial queue index answers it). */
  anyDue: statement(
    'task_read.anyDue',
    `SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'pending' AND available_at <= now()) AS due`,
  ),
  countsByState: statement('task_read.countsByState', `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`),
  /** Pending tasks by route (type and model, '' for none). */
  pendingByRoute: statement(
    'task_read.pendingByRoute',
    `SELECT type, model, count(*)::int AS pending FROM tasks WHERE status = 'pending'
      GROUP BY type, model ORDER BY type, model`,
  ),
} as const;

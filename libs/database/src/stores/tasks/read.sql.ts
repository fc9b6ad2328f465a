import { statement } from '../../sql/statement.js';
import { viewColumns } from './task-columns.js';

const FILTER = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
                AND ($3::text IS NULL OR assigned_agent = $3) AND ($4::text IS NULL OR model = $4)`;

/** Reads of the tasks table. */
export const READ_SQL = {
  /** $1 id. */
  get: statement('task_read.get', `SELECT ${viewColumns()} FROM tasks WHERE id = $1`),
  /** Newest first. $1 status, $2 type, $3 agent, $4 model (each may be null), $5 limit, $6 offset. */
  page: statement(
    'task_read.page',
    `SELECT ${viewColumns()} FROM tasks WHERE ${FILTER} ORDER BY created_at DESC, id LIMIT $5 OFFSET $6`,
  ),
  /** Every task, and those matching the filter ($1–$4 as in `page`). */
  pageCounts: statement(
    'task_read.pageCounts',
    `SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${FILTER}))::int AS filtered FROM tasks`,
  ),
  countsByState: statement('task_read.countsByState', `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`),
  /** Pending tasks by route (type and model, '' for none). */
  pendingByRoute: statement(
    'task_read.pendingByRoute',
    `SELECT type, model, count(*)::int AS pending FROM tasks WHERE status = 'pending'
      GROUP BY type, model ORDER BY type, model`,
  ),
} as const;

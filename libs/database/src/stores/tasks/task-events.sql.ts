import { TASK_CHANNEL, WEBHOOK_CHANNEL } from '../../queue/queue-payloads.js';

/**
 * What every change of a task's state writes besides the state itself (docs/architecture.md, "Delivering results"),
 * written once: the event appended to the task's history, the notice that tells every replica (a waiting request,
 * a live-events reader), and, when the task ended, its webhook in the outbox. All in the statement that makes the
 * change, so that none of them exists without the change or is lost after it: a NOTIFY is sent at the commit.
 */

/** Task ids per notice: 36 characters and a comma each stays far below PostgreSQL's 8,000-byte payload limit. */
const IDS_PER_NOTICE = 200;

/** SQL: the jsonb object of one status event; `fields` are SQL expressions (a null one is left out). */
function eventObject(seq: string, status: string, fields: Record<string, string>): string {
  const pairs = Object.entries(fields).map(([name, value]) => `, '${name}', ${value}`);
  return `jsonb_strip_nulls(jsonb_build_object('seq', ${seq}, 'status', ${status}, 'at', now()${pairs.join('')}))`;
}

/** The history of a task just submitted: its `pending` event. */
export const FIRST_EVENT = `jsonb_build_array(${eventObject('1', `'pending'`, {})})`;

/** The history of a task stored already running on agent `agent` (SQL): pending, then its first attempt. */
export const CLAIMED_EVENTS = (agent: string): string =>
  `jsonb_build_array(${eventObject('1', `'pending'`, {})}, ${eventObject('2', `'in_progress'`, { agent, attempt: '1' })})`;

/**
 * Assignment appending one status event to tasks row `alias` (its seq one past the last). `status` and `fields` are
 * SQL expressions.
 */
export const appendEvent = (alias: string, status: string, fields: Record<string, string> = {}): string =>
  `events = ${alias}.events || jsonb_build_array(${eventObject(`jsonb_array_length(${alias}.events) + 1`, status, fields)})`;

/**
 * CTEs to add after a CTE `changed` (the changed rows: id, status, callback_url): `notified` tells every replica
 * which tasks changed (a few notices per statement whatever its size), `hooks` queues the webhook of each task that
 * ended with a callback URL, and `hook_wake` wakes the replicas' webhook senders. The statement's final SELECT must
 * have SIDE_EFFECTS_DONE as its WHERE clause, as PostgreSQL runs a SELECT in WITH only as far as it is read.
 */
export const SIDE_EFFECTS = `
  notified AS (
    SELECT pg_notify('${TASK_CHANNEL}', string_agg(id::text, ',')) FROM (
      SELECT id, (row_number() OVER () - 1) / ${IDS_PER_NOTICE} AS part FROM changed) AS c
     GROUP BY part
  ), hooks AS (
    INSERT INTO webhook_deliveries (task_id, url)
    SELECT id, callback_url FROM changed
     WHERE callback_url IS NOT NULL AND status IN ('completed', 'failed', 'cancelled')
    ON CONFLICT (task_id) DO NOTHING
    RETURNING task_id
  ), hook_wake AS (
    SELECT pg_notify('${WEBHOOK_CHANNEL}', '') FROM (SELECT 1 FROM hooks LIMIT 1) AS h
  )`;

/**
 * A condition (always true) that makes the statement run the SELECT CTEs of SIDE_EFFECTS to the end, once, when the
 * first changed row is returned. (A subquery in FROM whose value is not used would be planned away.)
 */
export const SIDE_EFFECTS_DONE = `(SELECT count(*) FROM notified) + (SELECT count(*) FROM hook_wake) >= 0`;

import { statement } from '../../sql/statement.js';
import { BACK_TO_QUEUE_UNCOUNTED, held, LEASE_ENDED } from './lease.sql.js';
import { servedBy } from './served-by.sql.js';
import { appendEvent, SIDE_EFFECTS, SIDE_EFFECTS_DONE } from './task-events.sql.js';

/** An ended task. */
const ENDED = `status IN ('completed', 'failed', 'cancelled')`;

/** What a task kept as metadata only loses once it ended: its input and its answer's content. */
const FORGET_CONTENT = `input = NULL, context = '{}'::jsonb,
       result = result - 'message' - 'response' - 'embeddings', updated_at = now()`;

/** What the changed rows return for SIDE_EFFECTS. */
const CHANGED = 't.id, t.status, t.callback_url';

/** The event fields of the end of an attempt: the error, the agent and the attempt. `error` is an SQL expression. */
const attemptEnd = (error: string): Record<string, string> => ({
  error,
  agent: 't.assigned_agent',
  attempt: 't.attempts',
});

/** in_progress → pending untouched, the attempt not counted, for the tasks `where` selects; `reason` says why. */
const backToQueue = (name: string, where: string, reason: string) =>
  statement(
    name,
    `WITH changed AS (
       UPDATE tasks t SET ${BACK_TO_QUEUE_UNCOUNTED},
              ${appendEvent('t', `'pending'`, { reason: `'${reason}'`, agent: 't.assigned_agent' })}
        WHERE ${where} RETURNING ${CHANGED}
     ), ${SIDE_EFFECTS}
     SELECT changed.id FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  );

const LEASE_EXPIRED_ERROR = `'lease expired: replica ' || coalesce(t.lease_owner, '?') || ' stopped renewing it'`;

/**
 * The other moves of a task between states (docs/architecture.md, "The task lifecycle"); completion is
 * complete.sql.ts. Each appends its event to the task's history and tells the replicas (task-events.sql.ts).
 */
export const TRANSITION_SQL = {
  /** in_progress → failed. $1–$3 the held task, $4 error. */
  fail: statement(
    'task.fail',
    `WITH changed AS (
       UPDATE tasks t SET status = 'failed', error = $4, completed_at = now(),
              ${appendEvent('t', `'failed'`, attemptEnd('$4::text'))}, ${LEASE_ENDED}
        WHERE ${held('t')} RETURNING ${CHANGED}
     ), ${SIDE_EFFECTS}
     SELECT changed.id FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /**
   * in_progress → pending after a failed attempt (a `retrying` event), due after a backoff. $1–$3 the held task,
   * $4 error, $5 delay ms.
   */
  retry: statement(
    'task.retry',
    `WITH changed AS (
       UPDATE tasks t SET status = 'pending', error = $4, available_at = now() + $5 * interval '1 millisecond',
              started_at = NULL,
              ${appendEvent('t', `'retrying'`, { ...attemptEnd('$4::text'), retry_at: `now() + $5 * interval '1 millisecond'` })},
              ${LEASE_ENDED}
        WHERE ${held('t')} RETURNING ${CHANGED}
     ), ${SIDE_EFFECTS}
     SELECT changed.id FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /**
   * in_progress → pending at once (on another agent) after the agent said it does not serve the task's model, when
   * another registered agent can run it and attempts are left; → failed otherwise. Returns the new status. $1–$3 the
   * held task, $4 error.
   */
  reroute: statement(
    'task.reroute',
    `WITH task AS (SELECT id, type, model, attempts < max_attempts AS attempts_left FROM tasks t WHERE ${held('t')}
                    FOR UPDATE),
          elsewhere AS (SELECT EXISTS (SELECT 1 FROM agents a, task
                                        WHERE a.id <> $2 AND ${servedBy('a', 'task.type', 'task.model')}) AS found),
          changed AS (
            UPDATE tasks t
               SET status = CASE WHEN e.found AND task.attempts_left THEN 'pending' ELSE 'failed' END,
                   completed_at = CASE WHEN e.found AND task.attempts_left THEN NULL ELSE now() END,
                   error = $4, available_at = now(), started_at = NULL,
                   ${appendEvent('t', `CASE WHEN e.found AND task.attempts_left THEN 'retrying' ELSE 'failed' END`, attemptEnd('$4::text'))},
                   ${LEASE_ENDED}
              FROM task, elsewhere e
             WHERE t.id = task.id
            RETURNING ${CHANGED}
          ), ${SIDE_EFFECTS}
     SELECT changed.status FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /** in_progress → pending untouched, the attempt not counted (shutdown). $1–$3 the held task. */
  release: backToQueue('task.release', held('t'), 'its replica stopped'),

  /** in_progress → pending untouched for tasks whose agent is being removed (their rows already locked). $1 ids. */
  requeue: backToQueue('task.requeue', 't.id = ANY($1)', 'its agent was removed'),

  /**
   * Extends the leases this replica still holds among $1 (ids), by $3 ms from now ($2 replica id); returns those.
   * Rows locked in id order, as completions lock them: the two never deadlock.
   */
  renewLeases: statement(
    'task.renewLeases',
    `WITH mine AS MATERIALIZED (
                  SELECT id FROM tasks WHERE id = ANY($1) AND status = 'in_progress' AND lease_owner = $2
                   ORDER BY id FOR UPDATE
                )
                UPDATE tasks t SET lease_expires_at = now() + $3 * interval '1 millisecond'
                  FROM mine WHERE t.id = mine.id RETURNING t.id`,
  ),

  /**
   * in_progress with an expired lease (its replica died or hung) → pending, or failed on the last attempt: the lost
   * attempt counts, so a task that keeps killing replicas ends. At most $1 rows; other reapers' rows are skipped.
   */
  reap: statement(
    'task.reap',
    `WITH expired AS (
           SELECT id FROM tasks
            WHERE status = 'in_progress' AND lease_expires_at < now()
            ORDER BY lease_expires_at LIMIT $1
            FOR UPDATE SKIP LOCKED
         ), changed AS (
           UPDATE tasks t
              SET status = CASE WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'pending' END,
                  completed_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                  error = ${LEASE_EXPIRED_ERROR}, available_at = now(), started_at = NULL,
                  ${appendEvent('t', `CASE WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'retrying' END`, attemptEnd(LEASE_EXPIRED_ERROR))},
                  ${LEASE_ENDED}
             FROM expired
            WHERE t.id = expired.id
           RETURNING ${CHANGED}, t.type
         ), ${SIDE_EFFECTS}
     SELECT changed.id, changed.type, changed.status FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /** pending (or in_progress, when $2 has it) → cancelled; returns the task's type and the status it had. $1 id, $2 states. */
  cancel: statement(
    'task.cancel',
    `WITH before AS (SELECT id, status AS was FROM tasks WHERE id = $1 FOR UPDATE),
          changed AS (
            UPDATE tasks t SET status = 'cancelled', completed_at = now(), ${appendEvent('t', `'cancelled'`)},
                   ${LEASE_ENDED}
              FROM before
             WHERE t.id = before.id AND t.status = ANY($2::text[])
            RETURNING ${CHANGED}, nullif(t.type, '') AS type, before.was
          ), ${SIDE_EFFECTS}
     SELECT changed.type, changed.was FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /** The content of ended tasks kept as metadata only, forgotten (see TaskStore.forgetContent). $1 ids. */
  forgetContent: statement(
    'task.forgetContent',
    `UPDATE tasks SET ${FORGET_CONTENT}
      WHERE id = ANY($1::uuid[]) AND retain = 'metadata' AND input IS NOT NULL AND ${ENDED}
      RETURNING id`,
  ),

  /** The same for at most $2 such tasks that ended more than $1 seconds ago. */
  forgetLeftContent: statement(
    'task.forgetLeftContent',
    `UPDATE tasks SET ${FORGET_CONTENT}
      WHERE id IN (SELECT id FROM tasks
                    WHERE retain = 'metadata' AND input IS NOT NULL AND ${ENDED}
                      AND completed_at < now() - $1 * interval '1 second'
                    LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
  ),

  /** Deletes at most $2 tasks that finished more than $1 days ago; other sweepers' rows are skipped. */
  sweep: statement(
    'task.sweep',
    `DELETE FROM tasks WHERE id IN (
            SELECT id FROM tasks
             WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - $1 * interval '1 day'
             LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
  ),
} as const;

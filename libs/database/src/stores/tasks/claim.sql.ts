import { statement } from '../../sql/statement.js';
import { SERVED_MODELS } from '../agents/model-match.js';
import { inputRows, POSITIONED_AT, ROW_COLUMNS } from './submit.sql.js';
import { appendEvent, CLAIMED_EVENTS, SIDE_EFFECTS, SIDE_EFFECTS_DONE } from './task-events.sql.js';

/**
 * The statements of one claim transaction, in the order they run (docs/architecture.md, "Claiming"): lockAgents and
 * countLoad go with BEGIN, assign (and insertClaimed) with COMMIT, in one round trip each. Exported for the
 * benchmark's raw loop, so that its reference is the SQL Hive runs.
 */
export const CLAIM_SQL = {
  /**
   * The usable agents (enabled, online, not paused by a Retry-After), locked in id order (replicas claiming at once
   * never deadlock; a second one waits here), so that their load counted next cannot change until the transaction
   * ends.
   */
  lockAgents: statement(
    'claim.lockAgents',
    `SELECT id, endpoint, kind, model, ${SERVED_MODELS} AS models, specialty, max_concurrent, consecutive_failures,
            api_key_encrypted, loaded_models, loaded_capacity, recent_models, models_probed_at
       FROM agents a WHERE enabled AND NOT offline AND (paused_until IS NULL OR paused_until <= now())
      ORDER BY id FOR UPDATE`,
  ),

  /**
   * In-progress tasks per agent, over all replicas (read whole from a partial index of running tasks, by an index
   * scan: the claim turns bitmap scans off, see Sql.transaction's noBitmapScans). A statement of its own after
   * lockAgents: its snapshot must be taken once the locks are held.
   */
  countLoad: statement(
    'claim.countLoad',
    `SELECT assigned_agent AS id, count(*)::int AS running FROM tasks
      WHERE status = 'in_progress'
      GROUP BY assigned_agent`,
  ),

  /**
   * Due pending tasks, at most `slots` of each route (a type and a model, '' for any), highest priority first, then
   * oldest; rows another transaction holds are skipped. Without their payload: a route's candidates may be many
   * more than the slots it gets, and `assign` returns the payload of those placed. $1 types, $2 models, $3 slots per
   * route, $4 limit.
   */
  takePending: statement(
    'claim.takePending',
    `SELECT t.id, t.type, t.operation, t.model, t.priority, t.attempts, t.max_attempts,
            t.timeout_ms, t.created_at, t.available_at, t.assigned_agent AS previous_agent
       FROM unnest($1::text[], $2::text[], $3::int[]) AS w(type, model, slots)
      CROSS JOIN LATERAL (
        SELECT * FROM tasks
         WHERE status = 'pending' AND type = w.type AND model = w.model AND available_at <= now()
         ORDER BY priority DESC, created_at
         LIMIT w.slots
         FOR UPDATE SKIP LOCKED
      ) t
      ORDER BY t.priority DESC, t.created_at
      LIMIT $4`,
  ),

  /** The models the claim sent to each agent, with when ($1 agent ids, locked above; $2 their recent_models). */
  markRecent: statement(
    'claim.markRecent',
    `UPDATE agents a SET recent_models = r.recent
       FROM unnest($1::text[], $2::jsonb[]) AS r(id, recent)
      WHERE a.id = r.id`,
  ),

  /**
   * pending → in_progress on the chosen agents, under this replica's lease, announced like every change of state
   * (task-events.sql.ts); returns each task's payload, whether its call streams, its gateway dialect, and the seq of
   * its in_progress event. The claim's last statement, sent with COMMIT. $1 task ids, $2 agent ids, $3 replica, $4
   * lease ms.
   */
  assign: statement(
    'claim.assign',
    `WITH changed AS (
       UPDATE tasks t
          SET status = 'in_progress', assigned_agent = c.agent, attempts = t.attempts + 1, started_at = now(),
              lease_owner = $3, lease_expires_at = now() + $4 * interval '1 millisecond', updated_at = now(),
              ${appendEvent('t', `'in_progress'`, { agent: 'c.agent', attempt: 't.attempts + 1' })}
         FROM unnest($1::uuid[], $2::text[]) AS c(id, agent)
        WHERE t.id = c.id
       RETURNING t.id, t.status, t.callback_url, t.context, t.input, t.stream, t.gateway,
                 jsonb_array_length(t.events) AS event_seq
     ), ${SIDE_EFFECTS}
     SELECT changed.id, changed.context, changed.input, changed.stream, changed.gateway, changed.event_seq
       FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
  ),

  /**
   * Tasks stored already in_progress, by a claim that placed them before storing them (TaskStore.submitAndClaim):
   * each history holds its pending and in_progress events. Nobody can be following a task that did not exist: no
   * notice. One statement for all (PostgreSQL sets up an insert, its checks included, once per statement). $1–$13
   * as SUBMIT_SQL.each, $14 the agents, $15 replica, $16 lease ms; returns the ids stored.
   */
  insertClaimed: statement(
    'claim.insertClaimed',
    `WITH input AS (${inputRows({ param: '$14::text[]', name: 'agent' })})
     INSERT INTO tasks (${ROW_COLUMNS}, status, assigned_agent, attempts, started_at, lease_owner, lease_expires_at,
                        events, created_at)
     SELECT ${ROW_COLUMNS}, 'in_progress', agent, 1, now(), $15, now() + $16 * interval '1 millisecond',
            ${CLAIMED_EVENTS('agent')}, ${POSITIONED_AT}
       FROM input
     RETURNING id`,
  ),
} as const;

import { statement } from '../../sql/statement.js';
/** Agents with their load over all replicas (the tasks in progress on each). */
const SELECT_AGENTS = `SELECT a.id, a.endpoint, a.model, a.specialty, a.kind, a.max_concurrent, a.enabled, a.offline,
                  a.consecutive_failures, a.last_seen, a.last_error, a.created_at,
                  (SELECT count(*)::int FROM tasks t WHERE t.assigned_agent = a.id AND t.status = 'in_progress')
                    AS current_tasks
             FROM agents a`;

/** The statements of the agents table (docs/architecture.md, "Probes" and "Claiming"). */
export const AGENT_SQL = {
  /** $1 id, $2 endpoint, $3 model, $4 specialty, $5 max concurrent, $6 kind; no row when the id exists. */
  register: statement(
    'agent.register',
    `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, kind) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO NOTHING RETURNING id`,
  ),

  /** Every agent with its load over all replicas, by id. */
  list: statement('agent.list', `${SELECT_AGENTS} ORDER BY a.id`),

  /** One agent with its load. $1 id. */
  get: statement('agent.get', `${SELECT_AGENTS} WHERE a.id = $1`),

  /** $1 id; $2–$5 endpoint, model, max concurrent, enabled, each null when unchanged. */
  update: statement(
    'agent.update',
    `UPDATE agents SET endpoint = coalesce($2, endpoint), model = coalesce($3, model),
                  max_concurrent = coalesce($4, max_concurrent), enabled = coalesce($5, enabled), updated_at = now()
            WHERE id = $1 RETURNING id`,
  ),

  /** The agent's row locked for its removal, then its running tasks, locked in id order. $1 id. */
  lockForRemoval: statement('agent.lockForRemoval', `SELECT id FROM agents WHERE id = $1 FOR UPDATE`),
  lockRunningTasks: statement(
    'agent.lockRunningTasks',
    `SELECT id FROM tasks WHERE assigned_agent = $1 AND status = 'in_progress' ORDER BY id FOR UPDATE`,
  ),
  delete: statement('agent.delete', `DELETE FROM agents WHERE id = $1`),

  specialties: statement('agent.specialties', `SELECT DISTINCT specialty FROM agents ORDER BY 1`),

  /**
   * Takes the probes no replica took within 0.9 × the interval ($1 ms), so each agent is probed once per interval
   * in all. Rows a claim holds are skipped until a later round: waiting for them, in whatever order this would lock
   * them, deadlocks against claims.
   */
  takeDueProbes: statement(
    'agent.takeDueProbes',
    `WITH due AS (
                    SELECT id FROM agents
                     WHERE enabled AND (probed_at IS NULL OR probed_at <= now() - $1 * interval '1 millisecond')
                     ORDER BY id FOR UPDATE SKIP LOCKED
                  )
                  UPDATE agents a SET probed_at = now() FROM due WHERE a.id = due.id
                  RETURNING a.id, a.endpoint, a.max_concurrent`,
  ),

  /** One more consecutive failure ($2 the error); offline from $3 on. Returns the state before and after. $1 id. */
  recordFailure: statement(
    'agent.recordFailure',
    `UPDATE agents a SET consecutive_failures = a.consecutive_failures + 1, last_error = $2,
                         offline = a.offline OR a.consecutive_failures + 1 >= $3, updated_at = now()
                    FROM (SELECT id, offline AS was_offline FROM agents WHERE id = $1 FOR UPDATE) before
                   WHERE a.id = before.id
                   RETURNING a.offline, before.was_offline, a.consecutive_failures`,
  ),

  /** A probe answered: online, failures cleared, seen now. Returns whether it was offline. $1 id. */
  recordProbeSuccess: statement(
    'agent.recordProbeSuccess',
    `UPDATE agents a SET consecutive_failures = 0, offline = false, last_seen = now(), updated_at = now()
                         FROM (SELECT id, offline AS was_offline FROM agents WHERE id = $1 FOR UPDATE) before
                        WHERE a.id = before.id
                        RETURNING before.was_offline`,
  ),
} as const;

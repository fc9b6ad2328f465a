import { statement } from '../../sql/statement.js';
import { SERVED_MODELS, servesSql } from './model-match.js';

/** The note a probe leaves in last_error when the agent does not serve its default model (format: the model). */
const DEFAULT_MISSING_PREFIX = 'its default model ';
const DEFAULT_MISSING = `${DEFAULT_MISSING_PREFIX}%s is not among the models it serves`;

/** Agents with their load over all replicas (the tasks in progress on each). */
const SELECT_AGENTS = `SELECT a.id, a.endpoint, a.model, ${SERVED_MODELS} AS models, a.loaded_models, a.loaded_capacity, a.recent_models,
                  a.specialty, a.kind, a.max_concurrent, a.enabled, a.offline, a.api_key_encrypted IS NOT NULL AS has_api_key,
                  a.consecutive_failures, a.last_seen, a.last_error, a.models_probed_at,
                  CASE WHEN a.paused_until > now() THEN a.paused_until END AS paused_until, a.created_at,
                  (SELECT count(*)::int FROM tasks t WHERE t.assigned_agent = a.id AND t.status = 'in_progress')
                    AS current_tasks
             FROM agents a`;

/** The statements of the agents table (docs/architecture.md, "Probes" and "Claiming"). */
export const AGENT_SQL = {
  /**
   * $1 id, $2 endpoint, $3 model, $4 specialty, $5 max concurrent, $6 kind, $7 encrypted api key; no row when the id
   * exists. Until its first probe, an agent is taken to serve its default model (models is null).
   */
  register: statement(
    'agent.register',
    `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, kind, api_key_encrypted)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO NOTHING RETURNING id`,
  ),

  /** Every agent with its load over all replicas, by id. */
  list: statement('agent.list', `${SELECT_AGENTS} ORDER BY a.id`),

  /** One agent with its load. $1 id. */
  get: statement('agent.get', `${SELECT_AGENTS} WHERE a.id = $1`),

  /**
   * $1 id; $2–$5 endpoint, model, max concurrent, enabled, each null when unchanged; $6 whether the key changes, $7
   * the new encrypted key (null: none). A new endpoint is another server: what the old one served and held is
   * forgotten, and its default model assumed, until the next probe; so is a new default model it was not known to
   * serve. Its key goes too, unless a new one comes with it: the key was the old server's, and must not be sent to
   * whatever host the endpoint names now.
   */
  update: statement(
    'agent.update',
    `UPDATE agents a SET endpoint = coalesce($2, a.endpoint), model = coalesce($3, a.model),
                  max_concurrent = coalesce($4, a.max_concurrent), enabled = coalesce($5, a.enabled),
                  api_key_encrypted = CASE WHEN $6 THEN $7 WHEN moved THEN NULL ELSE a.api_key_encrypted END,
                  models = CASE WHEN moved THEN NULL
                                WHEN $3 IS NOT NULL AND NOT ${servesSql('a.models', '$3::text')} THEN a.models || $3::text
                                ELSE a.models END,
                  loaded_models = CASE WHEN moved THEN '[]' ELSE a.loaded_models END,
                  loaded_capacity = CASE WHEN moved THEN 0 ELSE a.loaded_capacity END,
                  recent_models = CASE WHEN moved THEN '{}' ELSE a.recent_models END,
                  updated_at = now()
             FROM (SELECT id, coalesce($2 <> endpoint, false) AS moved FROM agents WHERE id = $1 FOR UPDATE) before
            WHERE a.id = before.id RETURNING a.id`,
  ),

  /** The agent's row locked for its removal, then its running tasks, locked in id order. $1 id. */
  lockForRemoval: statement('agent.lockForRemoval', `SELECT id FROM agents WHERE id = $1 FOR UPDATE`),
  lockRunningTasks: statement(
    'agent.lockRunningTasks',
    `SELECT id FROM tasks WHERE assigned_agent = $1 AND status = 'in_progress' ORDER BY id FOR UPDATE`,
  ),
  delete: statement('agent.delete', `DELETE FROM agents WHERE id = $1`),

  hasStoredKeys: statement(
    'agent.hasStoredKeys',
    `SELECT EXISTS (SELECT 1 FROM agents WHERE api_key_encrypted IS NOT NULL) AS found`,
  ),

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
                  RETURNING a.id, a.endpoint, a.kind, a.max_concurrent, a.api_key_encrypted`,
  ),

  /** How to reach an agent. $1 id. */
  address: statement(
    'agent.address',
    `SELECT id, endpoint, kind, max_concurrent, api_key_encrypted FROM agents WHERE id = $1`,
  ),

  /** Marks one agent as probed now, for a probe made at once (a new agent). $1 id. */
  takeProbe: statement(
    'agent.takeProbe',
    `UPDATE agents SET probed_at = now() WHERE id = $1 AND enabled
      RETURNING id, endpoint, kind, max_concurrent, api_key_encrypted`,
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

  /**
   * A probe of the agent at $4 (its endpoint when the probe began: a moved agent's row is not the old server's to
   * write) answered: online, failures cleared, seen now, and what it found stored: $2 the models served (kept sorted,
   * each once), $3 those loaded (null: its protocol does not tell). A default model it does not serve becomes its
   * last_error, and that note goes once it serves it again. Returns whether it was offline, whether its default model
   * is missing, and whether the models changed. $1 id.
   */
  recordProbeSuccess: statement(
    'agent.recordProbeSuccess',
    `WITH found AS (SELECT ARRAY(SELECT DISTINCT m FROM unnest($2::text[]) m ORDER BY m) AS models)
     UPDATE agents a SET consecutive_failures = 0, offline = false, last_seen = now(), updated_at = now(),
                         models = found.models, models_probed_at = now(),
                         loaded_models = coalesce($3, '[]'::jsonb),
                         loaded_capacity = greatest(a.loaded_capacity, jsonb_array_length(coalesce($3, '[]'::jsonb))),
                         last_error = CASE
                           WHEN NOT ${servesSql('found.models', 'a.model')}
                             THEN format('${DEFAULT_MISSING} (%s)', a.model,
                                         coalesce(nullif(array_to_string(found.models, ', '), ''), 'none'))
                           WHEN a.last_error LIKE '${DEFAULT_MISSING_PREFIX}%' THEN NULL
                           ELSE a.last_error END
                    FROM found, (SELECT id, offline AS was_offline, models AS was_serving FROM agents
                                  WHERE id = $1 FOR UPDATE) before
                   WHERE a.id = before.id AND a.endpoint = $4
                   RETURNING before.was_offline, NOT ${servesSql(SERVED_MODELS, 'a.model')} AS default_missing,
                             a.models IS DISTINCT FROM before.was_serving AS models_changed`,
  ),

  /**
   * The agent asked not to be called for $2 ms (a 429 or 503 with Retry-After): no claim takes it before then. A
   * longer pause asked earlier stands. $1 id.
   */
  pause: statement(
    'agent.pause',
    `UPDATE agents SET paused_until = greatest(paused_until, now() + $2 * interval '1 millisecond'), updated_at = now()
      WHERE id = $1`,
  ),

  /**
   * A call to the agent at $3 found that it no longer serves a model ($2): it is taken off the agent's list until a
   * probe finds it again (not if the agent moved meanwhile). $1 id.
   */
  dropModel: statement(
    'agent.dropModel',
    `UPDATE agents a SET models = array_remove(${SERVED_MODELS}, $2), updated_at = now() WHERE id = $1 AND endpoint = $3`,
  ),
} as const;

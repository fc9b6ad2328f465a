import { statement } from '../../sql/statement.js';
import { held, LEASE_ENDED } from './lease.sql.js';
import { appendEvent, SIDE_EFFECTS, SIDE_EFFECTS_DONE } from './task-events.sql.js';

/**
 * in_progress → completed for a batch of results, each only while this replica holds the task's lease and the task
 * is still on the agent that answered; the agents that answered are marked seen (failure count cleared), at most
 * every 5 s each. Task rows are locked in id order, as lease renewal locks them, and before the agents' rows.
 * Each completion is announced and queues its webhook (task-events.sql.ts).
 * Returns the ids stored. $1 task ids, $2 results, $3 agent ids, $4 replica id. Exported for the benchmark's raw loop.
 */
export const COMPLETE_SQL = statement(
  'task.complete_batch',
  `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::jsonb[], $3::text[]) AS i(id, result, agent)
  ), mine AS MATERIALIZED (
    SELECT t.id, input.result FROM tasks t JOIN input ON ${held('t', { task: 'input.id', agent: 'input.agent', replica: '$4' })}
     ORDER BY t.id FOR UPDATE OF t
  ), changed AS (
    UPDATE tasks t SET status = 'completed', result = mine.result, error = NULL, completed_at = now(),
           ${appendEvent('t', `'completed'`, { agent: 't.assigned_agent', attempt: 't.attempts' })}, ${LEASE_ENDED}
      FROM mine
     WHERE t.id = mine.id
    RETURNING t.id, t.status, t.callback_url
  ), seen AS MATERIALIZED (
    SELECT id FROM agents
     WHERE id IN (SELECT agent FROM input)
       AND (consecutive_failures > 0 OR last_seen IS NULL OR last_seen < now() - interval '5 seconds')
     ORDER BY id FOR UPDATE
  ), marked AS (
    UPDATE agents a SET consecutive_failures = 0, last_seen = now() FROM seen WHERE a.id = seen.id
  ), ${SIDE_EFFECTS}
  SELECT changed.id FROM changed WHERE ${SIDE_EFFECTS_DONE}`,
);

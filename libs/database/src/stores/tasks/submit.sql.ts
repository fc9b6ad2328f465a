import { statement } from '../../sql/statement.js';
import { servedBy } from './served-by.sql.js';
import { SUBMITTED_COLUMNS } from './task-columns.js';

/**
 * The rows of a multi-row insert, each with an id given by the caller; created_at grows by 1 µs per position, so the
 * order given is the order among equal priorities. The statements add which rows go in.
 */
const INSERT_INPUT = `WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
                         $8::int[], $9::int[])
           WITH ORDINALITY AS i(id, type, operation, model, priority, context, input, max_attempts, timeout_ms, position)
  )
  INSERT INTO tasks (id, type, operation, model, priority, context, input, max_attempts, timeout_ms, created_at)
  SELECT id, type, operation, model, priority, context, input, max_attempts, timeout_ms,
         now() + (position - 1) * interval '1 microsecond'
    FROM input`;

/** A registered agent can run the input row. */
const SERVED = `SELECT 1 FROM agents a WHERE ${servedBy('a', 'input.type', 'input.model')}`;

/** Inserting tasks; a task no registered agent can run inserts nothing (the caller answers 400). */
export const SUBMIT_SQL = {
  /**
   * One task. A statement of its own rather than a batch of one: unprepared, PostgreSQL planned it in a third of
   * the time, and it stays the cheaper one to run.
   * $1 type, $2 operation, $3 model, $4 priority, $5 context, $6 input, $7 max attempts, $8 timeout ms.
   */
  one: statement(
    'submit.one',
    `WITH served AS (SELECT 1 FROM agents a WHERE ${servedBy('a', '$1::text', '$3::text')} LIMIT 1)
        INSERT INTO tasks (type, operation, model, priority, context, input, max_attempts, timeout_ms)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM served
        RETURNING ${SUBMITTED_COLUMNS}`,
  ),

  /**
   * Independent submissions that arrived together, in one statement: each row is stored when an agent can run it,
   * whatever the others. $1–$9 as for `batch`.
   */
  each: statement('submit.each', `${INSERT_INPUT} WHERE EXISTS (${SERVED}) RETURNING ${SUBMITTED_COLUMNS}`),

  /**
   * Many tasks, all or none: one task no agent can run inserts nothing. $1 ids, $2 types, $3 operations, $4 models,
   * $5 priorities, $6 contexts, $7 inputs, $8 max attempts, $9 timeouts.
   */
  batch: statement(
    'submit.batch',
    `${INSERT_INPUT} WHERE NOT EXISTS (SELECT 1 FROM input WHERE NOT EXISTS (${SERVED})) RETURNING ${SUBMITTED_COLUMNS}`,
  ),
} as const;

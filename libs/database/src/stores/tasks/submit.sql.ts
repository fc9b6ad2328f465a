import { statement } from '../../sql/statement.js';
import { SUBMITTED_COLUMNS } from './task-columns.js';

/**
 * The rows of a multi-row insert, each with an id given by the caller; created_at grows by 1 µs per position, so the
 * order given is the order among equal priorities. The statements add which rows go in.
 */
const INSERT_INPUT = `WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::int[], $6::int[])
           WITH ORDINALITY AS i(id, type, priority, context, max_attempts, timeout_ms, position)
  )
  INSERT INTO tasks (id, type, priority, context, max_attempts, timeout_ms, created_at)
  SELECT id, type, priority, context, max_attempts, timeout_ms, now() + (position - 1) * interval '1 microsecond'
    FROM input`;

/** A registered agent serves the input row's type. */
const SERVED = 'SELECT 1 FROM agents a WHERE a.specialty = input.type';

/** Inserting tasks; a type no registered agent serves inserts nothing (the caller answers 400). */
export const SUBMIT_SQL = {
  /**
   * One task. A statement of its own rather than a batch of one: unprepared, PostgreSQL planned it in a third of
   * the time, and it stays the cheaper one to run.
   * $1 type, $2 priority, $3 context, $4 max attempts, $5 timeout ms.
   */
  one: statement(
    'submit.one',
    `WITH served AS (SELECT 1 FROM agents WHERE specialty = $1 LIMIT 1)
        INSERT INTO tasks (type, priority, context, max_attempts, timeout_ms)
        SELECT $1, $2, $3, $4, $5 FROM served
        RETURNING ${SUBMITTED_COLUMNS}`,
  ),

  /**
   * Independent submissions that arrived together, in one statement: each row is stored when an agent serves its
   * type, whatever the others. $1–$6 as for `batch`.
   */
  each: statement('submit.each', `${INSERT_INPUT} WHERE EXISTS (${SERVED}) RETURNING ${SUBMITTED_COLUMNS}`),

  /**
   * Many tasks, all or none: one unserved type inserts nothing. $1 ids, $2 types, $3 priorities, $4 contexts, $5 max
   * attempts, $6 timeouts.
   */
  batch: statement(
    'submit.batch',
    `${INSERT_INPUT} WHERE NOT EXISTS (SELECT 1 FROM input WHERE NOT EXISTS (${SERVED})) RETURNING ${SUBMITTED_COLUMNS}`,
  ),
} as const;

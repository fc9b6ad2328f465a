import type { SqlRunner } from '../../sql/sql-runner.js';
import { statement, type Statement } from '../../sql/statement.js';
import { servedBy } from './served-by.sql.js';
import { SUBMITTED_COLUMNS } from './task-columns.js';
import { FIRST_EVENT } from './task-events.sql.js';
import type { NewTask, SubmittedTask } from './task.types.js';

/** The columns of a multi-row insert's rows (`inputRows`), in the order of their parameters ($1–$13). */
export const ROW_COLUMNS =
  'id, type, operation, model, priority, context, input, max_attempts, timeout_ms, stream, callback_url, gateway, retain';

/**
 * The rows of a multi-row insert, each with an id given by the caller: $1–$13 the arrays of ROW_COLUMNS, then
 * `more` arrays alongside (an SQL cast and a name each), and each row's `position` from 1.
 */
export const inputRows = (...more: { param: string; name: string }[]): string => `
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
                         $8::int[], $9::int[], $10::boolean[], $11::text[], $12::text[],
                         $13::text[]${more.map((m) => `, ${m.param}`).join('')})
           WITH ORDINALITY AS i(${ROW_COLUMNS}${more.map((m) => `, ${m.name}`).join('')}, position)`;

/** A row's created_at: 1 µs per position past now(), so the order given is the order among equal priorities. */
export const POSITIONED_AT = `now() + (position - 1) * interval '1 microsecond'`;

/** The rows of a multi-row insert of tasks just submitted; the statements add which rows go in. */
const INSERT_INPUT = `WITH input AS (${inputRows()})
  INSERT INTO tasks (${ROW_COLUMNS}, events, created_at)
  SELECT ${ROW_COLUMNS}, ${FIRST_EVENT}, ${POSITIONED_AT}
    FROM input`;

/** A registered agent can run the input row. */
const SERVED = `SELECT 1 FROM agents a WHERE ${servedBy('a', 'input.type', 'input.model')}`;

/** The columns of a task a client gives, in the order of SUBMIT_SQL.one's parameters ($1–$13). */
const GIVEN_COLUMNS =
  'type, operation, model, priority, context, input, max_attempts, timeout_ms, stream, callback_url, gateway, retain, id';

/** Inserting tasks; a task no registered agent can run inserts nothing (the caller answers 400). */
export const SUBMIT_SQL = {
  /**
   * One task. A statement of its own rather than a batch of one: unprepared, PostgreSQL planned it in a third of
   * the time, and it stays the cheaper one to run.
   * $1 type, $2 operation, $3 model, $4 priority, $5 context, $6 input, $7 max attempts, $8 timeout ms, $9 stream,
   * $10 callback URL, $11 gateway dialect, $12 retain, $13 id.
   */
  one: statement(
    'submit.one',
    `WITH served AS (SELECT 1 FROM agents a WHERE ${servedBy('a', '$1::text', '$3::text')} LIMIT 1)
        INSERT INTO tasks (${GIVEN_COLUMNS}, events)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ${FIRST_EVENT} FROM served
        RETURNING ${SUBMITTED_COLUMNS}`,
  ),

  /**
   * Independent submissions that arrived together, in one statement: each row is stored when an agent can run it,
   * whatever the others. $1–$13 as for `batch`.
   */
  each: statement('submit.each', `${INSERT_INPUT} WHERE EXISTS (${SERVED}) RETURNING ${SUBMITTED_COLUMNS}`),

  /**
   * Many tasks, all or none: one task no agent can run inserts nothing. $1 ids, $2 types, $3 operations, $4 models,
   * $5 priorities, $6 contexts, $7 inputs, $8 max attempts, $9 timeouts, $10 stream flags, $11 callback URLs,
   * $12 gateway dialects, $13 retains.
   */
  batch: statement(
    'submit.batch',
    `${INSERT_INPUT} WHERE NOT EXISTS (SELECT 1 FROM input WHERE NOT EXISTS (${SERVED})) RETURNING ${SUBMITTED_COLUMNS}`,
  ),
} as const;

/**
 * Runs a multi-row insert (`each` or `batch`) of tasks with ids of their own; answers each one's stored form in the
 * order given, undefined where none was stored.
 */
export async function insertTasks(
  db: SqlRunner,
  insert: Statement,
  tasks: readonly (NewTask & { id: string })[],
): Promise<(SubmittedTask | undefined)[]> {
  const rows = await db.rows<SubmittedTask>(insert, rowParams(tasks));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return tasks.map((t) => byId.get(t.id));
}

/** The parameters $1–$13 of a multi-row insert (`inputRows`): one array per column of ROW_COLUMNS. */
export function rowParams(tasks: readonly (NewTask & { id: string })[]): unknown[][] {
  return [
    tasks.map((t) => t.id),
    tasks.map((t) => t.type),
    tasks.map((t) => t.operation),
    tasks.map((t) => t.model),
    tasks.map((t) => t.priority),
    tasks.map((t) => JSON.stringify(t.context)),
    tasks.map((t) => (t.input === undefined ? null : JSON.stringify(t.input))),
    tasks.map((t) => t.max_attempts),
    tasks.map((t) => t.timeout_ms ?? null),
    tasks.map((t) => t.stream ?? false),
    tasks.map((t) => t.callback_url ?? null),
    tasks.map((t) => t.gateway ?? null),
    tasks.map((t) => t.retain ?? 'full'),
  ];
}

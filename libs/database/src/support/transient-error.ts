import { describeError } from './describe-error.js';

/**
 * Errors meaning "the database cannot be reached right now" (refused, reset, timed out, terminated by an admin or a
 * restart, too many connections): the same statement may succeed shortly. Matched on the whole description, because
 * pg-pool's own errors carry no code and a failed connect may be an AggregateError of several.
 */
const UNAVAILABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|timeout exceeded when trying to connect|Query read timeout|Connection terminated|57P0[1-3]|53300|\(08\d{3}\)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  return UNAVAILABLE.test(describeError(error));
}

/** PostgreSQL rolled the transaction back to resolve a conflict (deadlock, serialization): retrying succeeds. */
const CONFLICT_ROLLBACK_CODES = new Set(['40P01', '40001']);

export function isConflictRollback(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && CONFLICT_ROLLBACK_CODES.has(code);
}

/**
 * Errors of one row rather than of the statement: the data itself (class 22, e.g. a value PostgreSQL refuses; 23,
 * a constraint), or a rollback to resolve a conflict (40, e.g. a deadlock). A statement of many rows that fails so is
 * worth running again row by row, so that only the faulty row fails.
 */
export function isRowFault(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

/** PostgreSQL refused a value (class 22, data exception: e.g. a NUL character in a JSON string): the input's fault. */
export function isDataException(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && code.startsWith('22');
}

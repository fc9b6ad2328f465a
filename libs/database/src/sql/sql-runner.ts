import type { Statement } from './statement.js';

// Apart from Sql itself: the statement files that take a runner need only these (and the benchmark's plain tsc
// build, which compiles them, must not compile Sql, whose path-aliased imports it cannot rewrite).

/** What runs SQL for a store: the pool, or one connection inside a transaction. */
export interface SqlRunner {
  /** The rows a statement returns (none for one without RETURNING). */
  rows<T>(sql: Statement | string, params?: readonly unknown[]): Promise<T[]>;
}

/** One connection inside a transaction. */
export interface TransactionRunner extends SqlRunner {
  /**
   * Runs the statements as the transaction's last and commits, in one round trip: each prepared on the connection
   * the first time (SQL PREPARE), executed with its parameters written as the literals node-postgres would send.
   * Returns each one's rows. Nothing runs in the transaction after them.
   */
  rowsThenCommit(...runs: StatementRun[]): Promise<unknown[][]>;
}

/** A statement with its parameters. */
export interface StatementRun {
  statement: Statement;
  params: readonly unknown[];
}

import { Injectable, Logger } from '@nestjs/common';
import type { PoolClient, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { describeError } from '../support/describe-error.js';
import { isDatabaseUnavailable } from '../support/transient-error.js';
import { pgPoolOf, withConnection } from './pg-pool.js';
import type { Statement } from './statement.js';

/** A statement that took longer than this is logged (as TypeORM's maxQueryExecutionTime would). */
const SLOW_MS = 1_000;

/**
 * Failures that spoil the connection for later statements: it is lost or stuck, or a statement prepared on it no
 * longer fits the schema (0A000 "cached plan must not change result type" after a migration) or is unknown to the
 * server (26000). A new connection prepares its statements afresh.
 */
const SPOILS_CONNECTION = new Set(['0A000', '26000']);
const spoilsConnection = (error: unknown): boolean =>
  isDatabaseUnavailable(error) || SPOILS_CONNECTION.has(String((error as { code?: unknown } | null)?.code));

const shorten = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 300);

/** What runs SQL for a store: the pool, or one connection inside a transaction. */
export interface SqlRunner {
  /** The rows a statement returns (none for one without RETURNING). */
  rows<T>(sql: Statement | string, params?: readonly unknown[]): Promise<T[]>;
}

/**
 * The stores' way to PostgreSQL: statements on TypeORM's own pg pool, prepared by name (see Statement), with
 * transactions on one pooled connection. Failed statements are logged (never with their parameters: they may carry
 * task contexts) and reported to `onFailure` listeners (the metrics count them); a failure to get a connection is not
 * a statement's.
 */
@Injectable()
export class Sql implements SqlRunner {
  private readonly logger = new Logger('Database');
  private readonly failureListeners = new Set<() => void>();

  constructor(private readonly dataSource: DataSource) {}

  async rows<T>(sql: Statement | string, params: readonly unknown[] = []): Promise<T[]> {
    return withConnection(this.pool(), (client) => this.execute<T>(client, sql, params), spoilsConnection);
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. `durable: false` commits
   * without waiting for the WAL to reach the disk (synchronous_commit off, in the same round trip as BEGIN): for a
   * transaction whose loss in a crash of PostgreSQL is harmless, as a claim's (the task is then pending again).
   */
  async transaction<T>(work: (tx: SqlRunner) => Promise<T>, { durable = true } = {}): Promise<T> {
    let rollbackFailed = false;
    return withConnection(
      this.pool(),
      async (client) => {
        await client.query(durable ? 'BEGIN' : 'BEGIN; SET LOCAL synchronous_commit TO off');
        try {
          const result = await work({ rows: (sql, params = []) => this.execute(client, sql, params) });
          await client.query('COMMIT');
          return result;
        } catch (error) {
          // A lost or stuck connection is closed on release, which ends the transaction on the server: a ROLLBACK
          // would only queue behind the stuck statement. One that cannot even roll back is closed as well.
          if (spoilsConnection(error)) throw error;
          await client.query('ROLLBACK').catch(() => (rollbackFailed = true));
          throw error;
        }
      },
      (error) => rollbackFailed || spoilsConnection(error),
    );
  }

  /** Called on every statement that fails; returns how to stop listening. */
  onFailure(listener: () => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private async execute<T>(client: PoolClient, sql: Statement | string, params: readonly unknown[]): Promise<T[]> {
    const query: QueryConfig =
      typeof sql === 'string'
        ? { text: sql, values: [...params] }
        : { name: sql.name, text: sql.text, values: [...params] };
    const started = performance.now();
    try {
      const result = await client.query(query);
      const elapsed = Math.round(performance.now() - started);
      if (elapsed > SLOW_MS) {
        this.logger.warn({ statement: query.name, ms: elapsed }, `Slow query (${elapsed} ms): ${shorten(query.text)}`);
      }
      return result.rows as T[];
    } catch (error) {
      for (const listener of this.failureListeners) listener();
      this.logger.warn(
        { statement: query.name, err: describeError(error) },
        `Query failed: ${describeError(error)} — ${shorten(query.text)}`,
      );
      throw error;
    }
  }

  private pool() {
    const pool = pgPoolOf(this.dataSource);
    if (pool === undefined) throw new Error('the database is not connected');
    return pool;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { describeError } from '../support/describe-error.js';
import { pgPoolOf } from './pg-pool.js';
import type { Statement } from './statement.js';

/** A statement that took longer than this is logged (as TypeORM's maxQueryExecutionTime would). */
const SLOW_MS = 1_000;

const shorten = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 300);

/** What runs SQL for a store: the pool, or one connection inside a transaction. */
export interface SqlRunner {
  /** The rows a statement returns (none for one without RETURNING). */
  rows<T>(sql: Statement | string, params?: readonly unknown[]): Promise<T[]>;
}

/**
 * The stores' way to PostgreSQL: statements on TypeORM's own pg pool, prepared by name (see Statement), with
 * transactions on one pooled connection. Failed statements are logged (never with their parameters: they may carry
 * task contexts) and reported to `onFailure` listeners (the metrics count them).
 */
@Injectable()
export class Sql implements SqlRunner {
  private readonly logger = new Logger('Database');
  private readonly failureListeners = new Set<() => void>();

  constructor(private readonly dataSource: DataSource) {}

  rows<T>(sql: Statement | string, params: readonly unknown[] = []): Promise<T[]> {
    return this.run<T>(this.pool(), sql, params);
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    // A checked-out connection that fails (reset, terminated) says so on its own 'error' event; unheard, it would
    // crash the process. The statement in flight fails too, and the connection is closed on release.
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work({ rows: (sql, params = []) => this.run(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is closed rather than handed out again.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /** Called on every statement that fails; returns how to stop listening. */
  onFailure(listener: () => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private async run<T>(db: Pool | PoolClient, sql: Statement | string, params: readonly unknown[]): Promise<T[]> {
    const query: QueryConfig =
      typeof sql === 'string'
        ? { text: sql, values: [...params] }
        : { name: sql.name, text: sql.text, values: [...params] };
    const started = performance.now();
    try {
      const result = await db.query(query);
      const elapsed = performance.now() - started;
      if (elapsed > SLOW_MS) {
        this.logger.warn(
          { statement: query.name, ms: Math.round(elapsed) },
          `Slow query (${Math.round(elapsed)} ms): ${shorten(query.text)}`,
        );
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

  private pool(): Pool {
    const pool = pgPoolOf(this.dataSource);
    if (pool === undefined) throw new Error('the database is not connected');
    return pool;
  }
}

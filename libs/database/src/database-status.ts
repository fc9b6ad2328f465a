import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source-options.js';
import { pgPoolOf, withConnection } from './sql/pg-pool.js';
import { queryOn } from './sql/query-on.js';

export interface PoolStats {
  /** Connections open. */
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
  /** Most connections the pool opens. */
  max: number;
}

/** What the health checks and the metrics read of the database: the pool, a bounded ping, the migrations. */
@Injectable()
export class DatabaseStatus {
  constructor(private readonly dataSource: DataSource) {}

  /** The pool's figures, or undefined before the DataSource connects and after it closes. */
  pool(): PoolStats | undefined {
    const pool = pgPoolOf(this.dataSource);
    if (pool === undefined) return undefined;
    return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 0 };
  }

  /**
   * `SELECT 1` on a pooled connection with a real timeout: given up after `timeoutMs` (queryOn), and a connection
   * that failed or timed out is closed instead of going back to the pool, so a hanging database does not leave the
   * pool full of stuck connections (probes keep coming every few seconds).
   */
  async ping(timeoutMs: number, signal: AbortSignal): Promise<void> {
    await withConnection(
      this.connectedPool(),
      async (client) => {
        if (signal.aborted) return; // the probe already answered; the connection is fine
        await queryOn(client, 'SELECT 1', timeoutMs);
      },
      () => true,
    );
  }

  /** True when every migration Hive knows has been applied (readiness uses it). */
  async migrationsApplied(): Promise<boolean> {
    const names = (this.dataSource.options.migrations as { name: string }[]).map((m) => m.name);
    // On a connection of its own that is closed after any failure: one stuck on a timed-out query must not go back.
    const { rows } = await withConnection(
      this.connectedPool(),
      (client) =>
        queryOn<{ applied: number }>(client, {
          text: `SELECT count(*)::int AS applied FROM ${MIGRATIONS_TABLE} WHERE name = ANY($1)`,
          values: [names],
        }),
      () => true,
    );
    return rows[0]?.applied === names.length;
  }

  private connectedPool(): Pool {
    const pool = pgPoolOf(this.dataSource);
    if (pool === undefined) throw new Error('the database is not connected');
    return pool;
  }
}

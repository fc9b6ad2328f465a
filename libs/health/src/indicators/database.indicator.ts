import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Pool, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { migrationsApplied } from '@hive/database';
import { pgPool } from '@hive/metrics';

/**
 * `SELECT 1` on a pooled connection with a real timeout: pg abandons the query after `timeoutMs`, and a connection
 * that failed or timed out is closed instead of going back to the pool, so a hanging database does not leave the
 * pool full of stuck connections (probes keep coming every few seconds).
 */
async function ping(pool: Pool | undefined, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (pool === undefined) throw new Error('the database is not connected');
  const client = await pool.connect();
  if (signal.aborted) return client.release(); // the probe already answered; the connection is fine
  let failure: Error | undefined;
  try {
    // query_timeout is a pg option that @types/pg does not declare on QueryConfig.
    const query: QueryConfig & { query_timeout: number } = { text: 'SELECT 1', query_timeout: timeoutMs };
    await client.query(query);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failure);
  }
}

/** The database checks of readiness and of the full report, each bounded by HEALTH_CHECK_TIMEOUT_MS. */
@Injectable()
export class DatabaseIndicator {
  /** Once every migration is applied it stays so for the life of the process: later probes skip the query. */
  private migrated = false;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly config: HiveConfig,
  ) {}

  ping<const Key extends string>(key: Key) {
    const timeoutMs = this.config.healthCheckTimeoutMs;
    return this.indicators
      .check(key)
      .attempt(({ signal }) => ping(pgPool(this.dataSource), timeoutMs, signal))
      .withTimeout(timeoutMs);
  }

  migrations<const Key extends string>(key: Key) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        if (this.migrated) return;
        if (!(await migrationsApplied(this.dataSource))) throw new Error('migrations are pending');
        this.migrated = true;
      })
      .withTimeout(this.config.healthCheckTimeoutMs);
  }
}

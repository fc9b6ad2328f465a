import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HiveConfig } from '@hive/config';
import { DatabaseStatus } from '@hive/database';

/** The database checks of readiness and of the full report, each bounded by HEALTH_CHECK_TIMEOUT_MS. */
@Injectable()
export class DatabaseIndicator {
  /** Once every migration is applied it stays so for the life of the process: later probes skip the query. */
  private migrated = false;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseStatus,
    private readonly config: HiveConfig,
  ) {}

  ping<const Key extends string>(key: Key) {
    const timeoutMs = this.config.healthCheckTimeoutMs;
    return this.indicators
      .check(key)
      .attempt(({ signal }) => this.database.ping(timeoutMs, signal))
      .withTimeout(timeoutMs);
  }

  migrations<const Key extends string>(key: Key) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        if (this.migrated) return;
        if (!(await this.database.migrationsApplied())) throw new Error('migrations are pending');
        this.migrated = true;
      })
      .withTimeout(this.config.healthCheckTimeoutMs);
  }
}

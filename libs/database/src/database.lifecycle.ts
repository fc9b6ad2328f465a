import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { buildDataSourceOptions } from './data-source-options.js';
import { connectWithRetry } from './connect-with-retry.js';
import { describeError } from './support/describe-error.js';
import { settlesWithin } from './support/settles-within.js';
import { runMigrationsLocked } from './run-migrations.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { TypeOrmNestLogger } from './typeorm-logger.js';

/** How long shutdown waits for the pool's connections to come back before it exits without them. */
const POOL_CLOSE_WAIT_MS = 2_000;

/**
 * Owns the database for the life of the process: opens it (embedded server, connection with retry, migrations
 * under a lock) and closes it last on shutdown, after every other part has released its work.
 */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded: EmbeddedPostgres | undefined;
  private dataSource: DataSource | undefined;
  private url: string | undefined;

  constructor(private readonly config: HiveConfig) {}

  async open(): Promise<DataSource> {
    const settings = this.config.database;
    try {
      let url = settings.url;
      if (url === undefined) {
        this.embedded = new EmbeddedPostgres(settings.dataDir, this.logger);
        url = await this.embedded.start();
      }
      this.url = url;
      const onPoolError = (error: Error) =>
        this.logger.warn({ err: describeError(error) }, `Idle PostgreSQL connection dropped: ${describeError(error)}`);
      const typeormLogger = new TypeOrmNestLogger();
      this.dataSource = new DataSource(buildDataSourceOptions(settings, url, 'hive', onPoolError, typeormLogger));
      await connectWithRetry(this.dataSource, settings, this.logger);
      if (settings.runMigrations) await runMigrationsLocked(this.dataSource, this.logger);
      return this.dataSource;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Where the database is (DATABASE_URL, or the embedded server's), for connections outside the pool (LISTEN). */
  get connectionUrl(): string {
    if (this.url === undefined) throw new Error('the database is not open yet');
    return this.url;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private async close(): Promise<void> {
    const dataSource = this.dataSource;
    this.dataSource = undefined;
    try {
      if (dataSource?.isInitialized) await this.closePool(dataSource);
    } finally {
      await this.embedded?.stop();
      this.embedded = undefined;
    }
  }

  /**
   * The pool closes once every connection is back: one stuck on a database that stopped answering must not hold the
   * exit (its statement fails on the server's side when the connection goes).
   */
  private async closePool(dataSource: DataSource): Promise<void> {
    const closing = dataSource.destroy();
    if (!(await settlesWithin(closing, POOL_CLOSE_WAIT_MS))) {
      this.logger.warn(`Database connections still busy after ${POOL_CLOSE_WAIT_MS} ms; exiting without them`);
      return;
    }
    await closing; // a failure to close is still reported
    this.logger.log('Database connections closed');
  }
}

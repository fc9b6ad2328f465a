import type { DataSourceOptions, Logger } from 'typeorm';
import type { DatabaseSettings } from '@hive/config';
import { migrations } from '../../../migrations/index.js';

export const MIGRATIONS_TABLE = 'hive_migrations';

/** How much longer than statement_timeout the client waits for an answer before it gives up on the connection. */
const READ_TIMEOUT_MARGIN_MS = 5_000;

/**
 * How long a statement's answer is waited for before its connection is given up on (undefined: forever, as with no
 * statement_timeout). The server enforces statement_timeout; a database that stops answering (packets dropped) is
 * given up on here too, a little later, so no write or shutdown waits on it for the minutes TCP would take. Sql
 * applies it, not pg's query_timeout, with which a tenth of what a loop of statements allocated survived V8's
 * young-generation collections (query-on.ts).
 */
export const readTimeoutMs = (settings: DatabaseSettings): number | undefined =>
  settings.statementTimeoutMs === 0 ? undefined : settings.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS;

/**
 * The one place TypeORM is configured; the app and the migration CLI both call it.
 *
 * Pool mapping (SQLAlchemy terms of the service Hive replaces → pg-pool): pool_size → `min` (kept open while idle),
 * pool_size + max_overflow → `max`, pool_recycle → `maxLifetimeSeconds`. pg-pool drops a client that emits an error
 * (e.g. its backend was terminated) instead of handing it out again, and TCP keep-alive finds half-open sockets:
 * together they do the job of SQLAlchemy's pre-ping.
 */
export function buildDataSourceOptions(
  settings: DatabaseSettings,
  url: string,
  applicationName = 'hive',
  onPoolError?: (error: Error) => void,
  logger?: Logger,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    applicationName,
    // No entities: the stores write their SQL themselves (docs/architecture.md, "Modules").
    entities: [],
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn', 'migration'],
    maxQueryExecutionTime: 1_000,
    ...(logger === undefined ? {} : { logger }),
    connectTimeoutMS: settings.connectTimeoutMs,
    ...(onPoolError === undefined ? {} : { poolErrorHandler: onPoolError }),
    extra: {
      min: settings.pool.size,
      max: settings.pool.size + settings.pool.maxOverflow,
      idleTimeoutMillis: settings.pool.idleTimeoutMs,
      maxLifetimeSeconds: settings.pool.recycleSeconds,
      keepAlive: true,
      // The client's own limit, a little longer, is Sql's (readTimeoutMs).
      statement_timeout: settings.statementTimeoutMs === 0 ? undefined : settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: 60_000,
    },
  };
}

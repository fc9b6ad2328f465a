import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source-options.js';

/** Any fixed 64-bit number; every replica must use the same one. */
const MIGRATION_LOCK_ID = 7_301_964_210;

/**
 * Runs pending migrations while holding a session-level advisory lock, so that replicas starting together take
 * turns: the first applies them, the others wait and then find nothing to do.
 */
export async function runMigrationsLocked(dataSource: DataSource, logger: Logger): Promise<void> {
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) logger.log(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      else logger.log('Database schema is up to date');
    } finally {
      await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await lockHolder.release();
  }
}

/** True when every migration Hive knows has been applied (readiness uses it). */
export async function migrationsApplied(dataSource: DataSource): Promise<boolean> {
  const names = (dataSource.options.migrations as { name: string }[]).map((m) => m.name);
  const rows: { applied: number }[] = await dataSource.query(
    `SELECT count(*)::int AS applied FROM ${MIGRATIONS_TABLE} WHERE name = ANY($1)`,
    [names],
  );
  return rows[0]?.applied === names.length;
}

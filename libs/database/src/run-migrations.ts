import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

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

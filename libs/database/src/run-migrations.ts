import type { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';

/** Any fixed 64-bit number; every replica must use the same one. */
const MIGRATION_LOCK_ID = 7_301_964_210;

/** How often a replica waiting for another's migrations asks for the lock again. */
const LOCK_POLL_MS = 250;

/**
 * Takes the migration lock, asking again until it is free rather than waiting inside pg_advisory_lock: a statement
 * that waits holds a snapshot, and a migration that builds an index CONCURRENTLY waits for every older snapshot to
 * end, so the waiting replica and the migrating one would wait for each other.
 */
async function takeLock(holder: QueryRunner, logger: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const [row] = (await holder.query('SELECT pg_try_advisory_lock($1) AS taken', [MIGRATION_LOCK_ID])) as {
      taken: boolean;
    }[];
    if (row?.taken === true) return;
    if (attempt === 0) logger.log('Another replica is migrating the database; waiting for it');
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/**
 * Runs pending migrations while holding a session-level advisory lock, so that replicas starting together take
 * turns: the first applies them, the others wait and then find nothing to do.
 */
export async function runMigrationsLocked(dataSource: DataSource, logger: Logger): Promise<void> {
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await takeLock(lockHolder, logger);
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

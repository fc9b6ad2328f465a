import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** The pg pool behind TypeORM's DataSource; undefined before it connects and after it closes. */
export function pgPoolOf(dataSource: DataSource): Pool | undefined {
  if (!dataSource.isInitialized) return undefined;
  return (dataSource.driver as PostgresDriver).master as Pool | undefined;
}

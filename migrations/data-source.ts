/**
 * Entry point of the TypeORM CLI (`npm run migration:run|revert|generate`), built from the same options as the
 * app. The CLI needs DATABASE_URL: the embedded database is migrated by Hive itself when it starts.
 */
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '@hive/database';
import { loadConfig } from '@hive/config';

const config = loadConfig(process.env);
if (config.database.url === undefined) {
  throw new Error('DATABASE_URL must be set for the migration CLI');
}

export default new DataSource(buildDataSourceOptions(config.database, config.database.url, 'hive-migrations'));

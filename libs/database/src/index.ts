export { DatabaseModule } from './database.module.js';
export { buildDataSourceOptions, MIGRATIONS_TABLE } from './data-source-options.js';
export { connectWithRetry, backoffDelay, describeError } from './connect-with-retry.js';
export { runMigrationsLocked, migrationsApplied } from './run-migrations.js';
export { AgentEntity } from './entities/agent.entity.js';
export { TaskEntity, TASK_STATUSES, type TaskStatus } from './entities/task.entity.js';
export { ApiKeyEntity, API_KEY_ROLES, type ApiKeyRole } from './entities/api-key.entity.js';
export { queryRows, type Queryable } from './query-rows.js';
export { freePort } from './embedded-postgres.js';

export { DatabaseModule } from './database.module.js';
export { buildDataSourceOptions, MIGRATIONS_TABLE } from './data-source-options.js';
export { runMigrationsLocked } from './run-migrations.js';
export { freePort } from './embedded-postgres.js';
export { DatabaseStatus, type PoolStats } from './database-status.js';

export { describeError } from './support/describe-error.js';
export { backoffDelay } from './support/backoff.js';
export { settlesWithin } from './support/settles-within.js';
export { isConflictRollback, isDatabaseUnavailable, isDataException, isRowFault } from './support/transient-error.js';

export { Sql } from './sql/sql.js';
export type { SqlRunner } from './sql/sql-runner.js';
export type { Statement } from './sql/statement.js';
export { QueueChannel } from './queue/queue-channel.js';
export type { ChannelHandlers, QueueEvents, QueueListener } from './queue/queue-listener.js';
export type { CancelNotice, WakeReason } from './queue/queue-payloads.js';
export { TASK_CHANNEL, TOKEN_CHANNEL, WEBHOOK_CHANNEL, parseTaskIds } from './queue/queue-payloads.js';
export { packTokenPayloads, parseTokenPayload, type TokenPiece } from './queue/token-payloads.js';

export { TaskStore } from './stores/task.store.js';
export * from './stores/tasks/task.types.js';
export type * from './stores/tasks/claim.types.js';
export { CLAIM_SQL } from './stores/tasks/claim.sql.js';
export { COMPLETE_SQL } from './stores/tasks/complete.sql.js';

export { AgentStore } from './stores/agent.store.js';
export type * from './stores/agents/agent.types.js';
export { LATEST_TAG, routeModel } from './stores/agents/model-match.js';

export { IdempotencyStore, type IdempotencyKey, type IdempotentSubmission } from './stores/idempotency.store.js';

export { receiverOf, WebhookStore, type DueWebhook, type WebhookBacklog } from './stores/webhook.store.js';

export { ApiKeyStore } from './stores/api-key.store.js';
export * from './stores/api-keys/api-key.types.js';

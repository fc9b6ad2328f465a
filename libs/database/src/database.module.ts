import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseLifecycle } from './database.lifecycle.js';
import { DatabaseStatus } from './database-status.js';
import { QueueChannel } from './queue/queue-channel.js';
import { Sql } from './sql/sql.js';
import { AgentStore } from './stores/agent.store.js';
import { ApiKeyStore } from './stores/api-key.store.js';
import { IdempotencyStore } from './stores/idempotency.store.js';
import { TaskStore } from './stores/task.store.js';
import { WebhookStore } from './stores/webhook.store.js';

/**
 * The connected, migrated database and the stores over it: the only code that writes SQL. Global, so that every
 * lib reaches its store without re-importing the module.
 */
/** One per table: the only code that writes SQL. */
const STORES = [TaskStore, AgentStore, ApiKeyStore, IdempotencyStore, WebhookStore];

@Global()
@Module({
  providers: [
    DatabaseLifecycle,
    { provide: DataSource, inject: [DatabaseLifecycle], useFactory: (db: DatabaseLifecycle) => db.open() },
    DatabaseStatus,
    Sql,
    QueueChannel,
    ...STORES,
  ],
  exports: [DataSource, DatabaseStatus, Sql, QueueChannel, ...STORES],
})
export class DatabaseModule {}

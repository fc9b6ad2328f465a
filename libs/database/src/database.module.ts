import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseLifecycle } from './database.lifecycle.js';
import { QueryErrorCounter } from './typeorm-logger.js';

/** Provides the connected, migrated `DataSource` (and its failed-query count) to the whole app. */
@Global()
@Module({
  providers: [
    QueryErrorCounter,
    DatabaseLifecycle,
    { provide: DataSource, inject: [DatabaseLifecycle], useFactory: (db: DatabaseLifecycle) => db.open() },
  ],
  exports: [DataSource, QueryErrorCounter],
})
export class DatabaseModule {}

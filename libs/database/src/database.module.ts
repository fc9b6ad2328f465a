import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseLifecycle } from './database.lifecycle.js';

/** Provides the connected, migrated `DataSource` to the whole app. */
@Global()
@Module({
  providers: [
    DatabaseLifecycle,
    { provide: DataSource, inject: [DatabaseLifecycle], useFactory: (db: DatabaseLifecycle) => db.open() },
  ],
  exports: [DataSource],
})
export class DatabaseModule {}

import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectMetric, makeCounterProvider } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { DataSource, type AfterQueryEvent, type EntitySubscriberInterface } from 'typeorm';
import { Sql } from '@hive/database';

export const DB_QUERY_ERRORS = 'hive_db_query_errors_total';

export const queryErrorsProvider = makeCounterProvider({
  name: DB_QUERY_ERRORS,
  help: 'SQL statements that failed (errors, statement timeouts, connections lost mid-query).',
});

/**
 * Counts failed statements: the stores' (reported by Sql) and those sent through TypeORM itself (migrations, the
 * migration check), whose query runner raises `afterQuery` with `success: false`. A failure to obtain a connection
 * is not a statement and is not counted here: it shows as hive_ready 0 and pool waiters.
 */
@Injectable()
export class QueryErrorMetrics implements EntitySubscriberInterface, OnModuleInit, OnModuleDestroy {
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    @InjectMetric(DB_QUERY_ERRORS) private readonly errors: Counter,
  ) {}

  onModuleInit(): void {
    // Subscribers can be added to a live DataSource (the broadcaster reads the list for each query).
    this.dataSource.subscribers.push(this);
    this.stopListening = this.sql.onFailure(() => this.errors.inc());
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }

  afterQuery(event: AfterQueryEvent): void {
    if (!event.success) this.errors.inc();
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectMetric, makeCounterProvider } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { DataSource, type AfterQueryEvent, type EntitySubscriberInterface } from 'typeorm';

export const DB_QUERY_ERRORS = 'hive_db_query_errors_total';

export const queryErrorsProvider = makeCounterProvider({
  name: DB_QUERY_ERRORS,
  help: 'SQL statements sent through TypeORM that failed (errors, statement timeouts, connections lost mid-query).',
});

/**
 * Counts failed statements through TypeORM's `afterQuery` event, which its query runner raises for every statement
 * with `success: false` when one fails. A failure to obtain a connection is not a statement and is not counted
 * here: it shows as hive_ready 0 and pool waiters.
 */
@Injectable()
export class QueryErrorMetrics implements EntitySubscriberInterface, OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    @InjectMetric(DB_QUERY_ERRORS) private readonly errors: Counter,
  ) {}

  onModuleInit(): void {
    // Subscribers can be added to a live DataSource (the broadcaster reads the list for each query).
    this.dataSource.subscribers.push(this);
  }

  afterQuery(event: AfterQueryEvent): void {
    if (!event.success) this.errors.inc();
  }
}

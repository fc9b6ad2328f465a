import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { MetricsExposition } from './metrics-exposition.js';
import { MetricsRegistry } from './metrics-registry.js';
import { collectProcessMetrics } from './process-metrics.js';
import { httpDurationProvider } from './http/http-metrics.js';
import { HttpMetricsHook } from './http/http-metrics.hook.js';
import { PoolMetrics } from './database/pool.metrics.js';
import { QueryErrorMetrics, queryErrorsProvider } from './database/query-error.metrics.js';

/**
 * The metrics registry with process, HTTP and connection-pool metrics, and their exposition for /api/metrics.
 * Global, so that the modules that declare metrics of their own (the coordinator's, health's hive_ready) reach this
 * app's MetricsRegistry. Process metrics come from collectProcessMetrics: once per process, minus the _total gauges.
 */
@Global()
@Module({
  providers: [
    { provide: MetricsRegistry, useFactory: () => new MetricsRegistry() },
    MetricsExposition,
    httpDurationProvider,
    HttpMetricsHook,
    queryErrorsProvider,
    QueryErrorMetrics,
    PoolMetrics,
  ],
  exports: [MetricsRegistry, MetricsExposition],
})
export class MetricsModule implements OnModuleInit {
  onModuleInit(): void {
    collectProcessMetrics();
  }
}

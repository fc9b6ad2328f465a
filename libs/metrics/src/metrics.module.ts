import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { CoordinatorModule } from '@hive/coordinator';
import { MetricsController, METRICS_PATH } from './metrics.controller.js';
import { MetricsRegistry } from './metrics-registry.js';
import { collectProcessMetrics } from './process-metrics.js';
import { httpDurationProvider } from './http/http-metrics.js';
import { HttpMetricsHook } from './http/http-metrics.hook.js';
import { PoolMetrics } from './database/pool.metrics.js';
import { QueryErrorMetrics, queryErrorsProvider } from './database/query-error.metrics.js';
import { QueueSnapshotReader } from './database/queue-snapshot.js';
import { QueueMetrics } from './database/queue.metrics.js';

/**
 * GET /api/metrics with process, HTTP and database metrics. Global so that the metrics controller (declared inside
 * PrometheusModule) and other modules (health's hive_ready) can reach this app's MetricsRegistry.
 */
@Global()
@Module({
  imports: [
    // Default metrics are collected by collectProcessMetrics instead: once per process, minus the _total gauges.
    PrometheusModule.register({
      path: METRICS_PATH,
      controller: MetricsController,
      defaultMetrics: { enabled: false },
    }),
    CoordinatorModule,
  ],
  providers: [
    { provide: MetricsRegistry, useFactory: () => new MetricsRegistry() },
    httpDurationProvider,
    HttpMetricsHook,
    queryErrorsProvider,
    QueryErrorMetrics,
    PoolMetrics,
    QueueSnapshotReader,
    QueueMetrics,
  ],
  exports: [MetricsRegistry],
})
export class MetricsModule implements OnModuleInit {
  onModuleInit(): void {
    collectProcessMetrics();
  }
}

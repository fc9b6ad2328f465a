export { MetricsModule } from './metrics.module.js';
export { MetricsRegistry } from './metrics-registry.js';
export { METRICS_PATH, MetricsExposition } from './metrics-exposition.js';
export { routeLabel, UNMATCHED_ROUTE, type RoutedRequest } from './http/http-metrics.js';

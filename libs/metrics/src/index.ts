export { MetricsModule } from './metrics.module.js';
export { MetricsRegistry } from './metrics-registry.js';
export { METRICS_PATH } from './metrics.controller.js';
export { pgPool } from './pg-pool.js';
export { routeLabel, type RoutedRequest } from './http/http-metrics.js';

import { collectDefaultMetrics, register, type Registry } from 'prom-client';

/**
 * prom-client exports these gauges next to the same gauges by `type` (`nodejs_active_handles{type}` …), and
 * `promtool check metrics` rejects a gauge named `_total`. `sum(nodejs_active_handles)` gives the total.
 */
const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * prom-client's default process metrics (CPU, memory, heap, event-loop lag, GC, handles), once per process: a second
 * app in the same process (tests) reuses them, where collecting again would throw "already registered".
 */
export function collectProcessMetrics(registry: Registry = register): void {
  if (registry.getSingleMetric('process_cpu_seconds_total') !== undefined) return;
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
}

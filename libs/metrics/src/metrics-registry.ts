import { Registry } from 'prom-client';

/**
 * The registry of one Hive app, for gauges read from that app's own resources at scrape time (its pg pool, its
 * database, its readiness). Counters, histograms and the process metrics stay in prom-client's global registry
 * (where `makeCounterProvider` and co. put them); /api/metrics serves both. Collect-time gauges are kept per app so
 * that two apps in one process (as in tests) each report their own database rather than the first one's.
 */
export class MetricsRegistry extends Registry {}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { Gauge, type Counter, type Histogram } from 'prom-client';
import { HiveConfig } from '@hive/config';
import { describeError, WebhookStore, type WebhookBacklog } from '@hive/database';
import { MetricsRegistry } from '@hive/metrics';
import { ScrapeRead } from '../metrics/scrape-read.js';

/** What an attempt led to: delivered (2xx), retried later, or failed for good (WEBHOOK_RETRY_HOURS passed). */
export type WebhookOutcome = 'delivered' | 'retried' | 'failed';

/** From seconds (delivered at the first try) to the hours a receiver may be down within WEBHOOK_RETRY_HOURS. */
const DELIVERY_SECONDS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1_800, 3_600, 4 * 3_600, 12 * 3_600, 24 * 3_600];

/** The webhook metrics the sender counts (declared here, registered once). */
export const webhookMetricProviders = [
  makeCounterProvider({
    name: 'hive_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), retried (to be tried again) or failed (given up).',
    labelNames: ['outcome'],
  }),
  makeHistogramProvider({
    name: 'hive_webhook_delivery_seconds',
    help: 'Time from a task ending to its webhook being delivered, retries included.',
    buckets: DELIVERY_SECONDS,
  }),
];

@Injectable()
export class WebhookMetrics {
  constructor(
    @InjectMetric('hive_webhook_deliveries_total') private readonly deliveries: Counter<string>,
    @InjectMetric('hive_webhook_delivery_seconds') private readonly latency: Histogram<string>,
  ) {}

  /** An attempt's recorded outcome; `queuedAt` (when the task ended) for a delivered one. */
  attempted(outcome: WebhookOutcome, queuedAt?: Date): void {
    this.deliveries.inc({ outcome });
    if (outcome === 'delivered' && queuedAt !== undefined) {
      this.latency.observe(Math.max(0, (Date.now() - queuedAt.getTime()) / 1000));
    }
  }
}

/**
 * hive_webhook_backlog and hive_webhook_oldest_pending_seconds, read from the outbox at scrape time (the same on
 * every replica), as a ScrapeRead bounded by HEALTH_CHECK_TIMEOUT_MS; the gauges are left out of a scrape whose read
 * failed.
 */
@Injectable()
export class WebhookBacklogMetrics implements OnModuleInit {
  private readonly logger = new Logger('Metrics');
  private readonly backlog: ScrapeRead<WebhookBacklog>;

  constructor(
    store: WebhookStore,
    config: HiveConfig,
    private readonly registry: MetricsRegistry,
  ) {
    this.backlog = new ScrapeRead(
      () => store.backlog(),
      config.healthCheckTimeoutMs,
      (error) =>
        this.logger.warn(
          { err: describeError(error) },
          `Could not read the webhook backlog for /api/metrics: ${describeError(error)}`,
        ),
    );
  }

  onModuleInit(): void {
    this.gauge(
      'hive_webhook_backlog',
      'Webhook deliveries not yet made (pending, retries included).',
      (b) => b.pending,
    );
    this.gauge(
      'hive_webhook_oldest_pending_seconds',
      'How long ago the task of the oldest pending webhook delivery ended (0 when none is pending).',
      (b) => b.oldest_s,
    );
  }

  /** The backlog, or undefined when the database could not be read in time (logged). */
  read(now = Date.now()): Promise<WebhookBacklog | undefined> {
    return this.backlog.get(now);
  }

  private gauge(name: string, help: string, value: (backlog: WebhookBacklog) => number): void {
    const read = () => this.read();
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const backlog = await read();
        // remove(): a gauge without labels would otherwise report 0, as if nothing were pending.
        if (backlog === undefined) this.remove();
        else this.set(value(backlog));
      },
    });
  }
}

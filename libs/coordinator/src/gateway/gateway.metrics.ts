import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import type { GatewayDialect } from '@hive/database';

/**
 * How a gateway request ended: answered, failed (by the agents, or after its answer began), refused before it was
 * queued (bad request, unknown model, key), given up in the queue, left by its client, or cut short by its replica
 * stopping.
 */
export type GatewayOutcome =
  'completed' | 'failed' | 'rejected' | 'queue_timeout' | 'client_closed' | 'replica_stopping';

/** From an idle agent's first token to a long queue. */
const LATENCY_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const gatewayMetricProviders = [
  makeCounterProvider({
    name: 'hive_gateway_requests_total',
    help: 'Requests to the OpenAI- and Ollama-compatible APIs, by dialect, endpoint, model (empty when not served) and outcome.',
    labelNames: ['dialect', 'endpoint', 'model', 'outcome'],
  }),
  makeHistogramProvider({
    name: 'hive_gateway_time_to_first_token_seconds',
    help: 'Streamed gateway calls: time from the request to the first piece of the answer sent to the client.',
    labelNames: ['dialect', 'model'],
    buckets: LATENCY_SECONDS,
  }),
  makeHistogramProvider({
    name: 'hive_gateway_queue_wait_seconds',
    help: 'Gateway calls: time in the queue before their first attempt began (x-hive-queue-ms is the answering one).',
    labelNames: ['dialect'],
    buckets: LATENCY_SECONDS,
  }),
];

/** The gateway's own series (the tasks it makes are counted with every task as well). */
@Injectable()
export class GatewayMetrics {
  constructor(
    @InjectMetric('hive_gateway_requests_total') private readonly requests: Counter<string>,
    @InjectMetric('hive_gateway_time_to_first_token_seconds') private readonly firstToken: Histogram<string>,
    @InjectMetric('hive_gateway_queue_wait_seconds') private readonly queueWait: Histogram<string>,
  ) {}

  request(dialect: GatewayDialect, endpoint: string, model: string, outcome: GatewayOutcome): void {
    this.requests.inc({ dialect, endpoint, model, outcome });
  }

  firstPiece(dialect: GatewayDialect, model: string, seconds: number): void {
    this.firstToken.observe({ dialect, model }, seconds);
  }

  queued(dialect: GatewayDialect, seconds: number): void {
    this.queueWait.observe({ dialect }, seconds);
  }
}

import { Injectable } from '@nestjs/common';
import { register, Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';

/** Where Prometheus scrapes Hive; requests to it are not counted in the HTTP metrics. */
export const METRICS_PATH = '/api/metrics';

/** The process-wide registry and this app's own (see MetricsRegistry), as Prometheus text. */
@Injectable()
export class MetricsExposition {
  constructor(private readonly appRegistry: MetricsRegistry) {}

  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([register, this.appRegistry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}

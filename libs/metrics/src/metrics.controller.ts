import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { register, Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';

export const METRICS_PATH = '/api/metrics';

interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/** GET /api/metrics: the process-wide registry and this app's own (see MetricsRegistry), as Prometheus text. */
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly appRegistry: MetricsRegistry) {
    super();
  }

  @Get()
  override async index(@Res({ passthrough: true }) response: HeaderSetter): Promise<string> {
    const merged = Registry.merge([register, this.appRegistry]);
    response.header('Content-Type', merged.contentType);
    return merged.metrics();
  }
}

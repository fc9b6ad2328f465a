import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '@hive/metrics';
import { ReadinessService } from './readiness.service.js';

/** hive_ready: readiness evaluated at scrape time, so Prometheus can count the ready replicas and alert on none. */
@Injectable()
export class ReadinessGauge implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const readiness = this.readiness;
    new Gauge({
      name: 'hive_ready',
      help: 'Whether this replica passes its readiness check (1) or not (0): database, migrations, coordinator, not shutting down.',
      registers: [this.registry],
      async collect() {
        this.set((await readiness.check()).ready ? 1 : 0);
      },
    });
  }
}

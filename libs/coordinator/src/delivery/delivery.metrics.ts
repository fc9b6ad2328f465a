import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '@hive/metrics';
import { TaskEvents } from './task-events.service.js';
import { TaskWaiting } from './task-waiting.service.js';

/** How many clients this replica holds open for results: waiting requests and live-event readers, read at scrape. */
@Injectable()
export class DeliveryMetrics implements OnModuleInit {
  constructor(
    private readonly waiting: TaskWaiting,
    private readonly events: TaskEvents,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const { waiting, events } = this;
    new Gauge({
      name: 'hive_waiting_requests',
      help: 'Requests on this replica waiting for their tasks to end (?wait=).',
      registers: [this.registry],
      collect() {
        this.set(waiting.waiting);
      },
    });
    new Gauge({
      name: 'hive_live_event_readers',
      help: 'Readers on this replica following a task live (GET /api/tasks/{id}/events).',
      registers: [this.registry],
      collect() {
        this.set(events.readers);
      },
    });
  }
}

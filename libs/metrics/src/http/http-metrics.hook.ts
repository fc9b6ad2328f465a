import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';
import { METRICS_PATH } from '../metrics-exposition.js';
import { HTTP_REQUEST_DURATION, methodLabel, routeLabel, type HttpLabel } from './http-metrics.js';

/**
 * Times every request from arrival to the last byte, in Fastify's onResponse hook: it also sees requests that never
 * reach a handler (404, guards rejecting, body errors), reads the status actually sent, after the exception filter
 * turned an error into a 4xx/5xx, and the route the router matched (Nest middleware only sees the raw request). A
 * request the client abandoned has no status to report and is not counted.
 */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectMetric(HTTP_REQUEST_DURATION) private readonly duration: Histogram<HttpLabel>,
  ) {}

  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    instance.addHook('onResponse', (request, reply, done) => {
      const route = routeLabel(request);
      if (route !== METRICS_PATH) {
        const labels = { method: methodLabel(request.method), route, status: String(reply.statusCode) };
        this.duration.observe(labels, reply.elapsedTime / 1000);
      }
      done();
    });
  }
}

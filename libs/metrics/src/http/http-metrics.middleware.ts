import type { ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Histogram } from 'prom-client';
import { METRICS_PATH } from '../metrics-exposition.js';
import { HTTP_REQUEST_DURATION, methodLabel, routeLabel, type HttpLabel, type RoutedRequest } from './http-metrics.js';

/**
 * Times every request from arrival to the last byte. A middleware rather than an interceptor: it also sees
 * requests that never reach a handler (404, guards rejecting, body-parser errors), and reads the status actually
 * sent, after exception filters turned a thrown error into a 4xx/5xx.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware<RoutedRequest, ServerResponse> {
  constructor(@InjectMetric(HTTP_REQUEST_DURATION) private readonly duration: Histogram<HttpLabel>) {}

  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    const started = performance.now();
    // 'finish' only: a request the client abandoned has no status to report.
    res.once('finish', () => {
      const route = routeLabel(req);
      if (route === METRICS_PATH) return;
      const seconds = (performance.now() - started) / 1000;
      this.duration.observe({ method: methodLabel(req.method), route, status: String(res.statusCode) }, seconds);
    });
    next();
  }
}

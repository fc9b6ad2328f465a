import type { IncomingMessage } from 'node:http';
import { makeHistogramProvider } from '@willsoto/nestjs-prometheus';

export const HTTP_REQUEST_DURATION = 'http_request_duration_seconds';
export type HttpLabel = 'method' | 'route' | 'status';

/** Label for a request no route matched (404s, CORS preflights): raw URLs would make the label set unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const httpDurationProvider = makeHistogramProvider({
  name: HTTP_REQUEST_DURATION,
  help: 'HTTP requests served, by method, route template (or "unmatched") and status code; /api/metrics itself is not counted.',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** What Express leaves on a request once a route handled it. */
export interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
}

/**
 * The route template that handled the request (`/api/tasks/:id`), never the raw URL. Nest mounts middleware (pino's,
 * this one) as wildcard routes such as `{/*splat}`, which stay in req.route when no controller route matches; Hive's
 * controllers have no wildcard routes, so a wildcard template means unmatched.
 */
export function routeLabel(req: RoutedRequest): string {
  const path = req.route?.path;
  return typeof path === 'string' && !path.includes('*') ? `${req.baseUrl ?? ''}${path}` : UNMATCHED_ROUTE;
}

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

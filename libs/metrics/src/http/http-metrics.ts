import type { IncomingHttpHeaders } from 'node:http';
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

/** What the router leaves on a (Fastify) request: the route it matched, if any. */
export interface RoutedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly is404: boolean;
  readonly routeOptions: { readonly url?: string };
}

/**
 * The route template that handled the request (`/api/tasks/:id`), never the raw URL. A request no route matched
 * runs in the not-found context; a wildcard template is the CORS plugin's `OPTIONS *` (Hive's own routes have
 * none), so it counts as unmatched too.
 */
export function routeLabel(req: RoutedRequest): string {
  const url = req.is404 ? undefined : req.routeOptions.url;
  return url === undefined || url.includes('*') ? UNMATCHED_ROUTE : url;
}

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

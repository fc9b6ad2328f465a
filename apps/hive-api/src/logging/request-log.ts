import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { METRICS_PATH, routeLabel } from '@hive/metrics';

/** The request headers a log line may carry: none that can hold a credential. */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'x-forwarded-for', 'referer'];

/** Probes and scrapes every few seconds would drown the log; their outcome is in the metrics. */
const QUIET_ROUTES = new Set(['/health', '/health/ready', METRICS_PATH]);

export interface RequestForLog {
  id: string;
  method: string;
  url: string;
  remoteAddress: string | undefined;
  headers: Record<string, string | string[]>;
}

export function requestForLog(request: FastifyRequest): RequestForLog {
  const headers: Record<string, string | string[]> = {};
  for (const name of LOGGED_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip, headers };
}

function levelOf(reply: FastifyReply): 'error' | 'warn' | 'info' {
  return reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'warn' : 'info';
}

/**
 * One JSON line per request once it is answered: its request_id, method, URL, client address and safe headers,
 * the status and the time taken. Built only when its level is logged, so a replica at LOG_LEVEL=warn spends
 * nothing on the requests that succeed.
 */
export function logRequests(instance: FastifyInstance, logger: PinoLogger): void {
  instance.addHook('onResponse', (request, reply, done) => {
    const level = levelOf(reply);
    if (logger.isLevelEnabled(level) && !QUIET_ROUTES.has(routeLabel(request))) {
      logger[level](
        {
          request_id: request.id,
          req: requestForLog(request),
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime),
        },
        'request completed',
      );
    }
    done();
  });
}

import type { Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { HiveConfig } from '@hive/config';
import { bodyLimitBytes } from './body-limit.js';
import { requestIdOf, serverWithRequestIds } from '../logging/request-context.js';
import { answerClientError, answerRouterError } from './router-errors.js';

/** Node's own limit on a request head (16 KiB) bounds a URL, and so a route parameter, anyway. */
const MAX_URL_LENGTH = 16 * 1024;

/**
 * Hive's Fastify server.
 * - The router answers every route as Express did: paths match whatever their case (`/API/tasks`) and a trailing
 *   slash is ignored (`/api/tasks/`); duplicate slashes are not (`//api/tasks` is 404). The guards decide by the
 *   route template matched (`request.routeOptions.url`), never by the URL's spelling.
 * - Route parameters may be as long as the URL, as under Express: a long id gets the validation's 400, not a 414.
 * - While the server closes (after the readiness grace), a request on a kept-alive connection is still served,
 *   with `Connection: close`, rather than refused with Fastify's own 503 body, so in-flight clients get Hive's
 *   answers and error shape to the end.
 */
export function fastifyOptions(config: HiveConfig): FastifyServerOptions<Server> {
  return {
    serverFactory: serverWithRequestIds,
    genReqId: requestIdOf,
    bodyLimit: bodyLimitBytes(config.security.bodyLimit),
    return503OnClosing: false,
    frameworkErrors: answerRouterError,
    clientErrorHandler: answerClientError,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_URL_LENGTH },
  };
}

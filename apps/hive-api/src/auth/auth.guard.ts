import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  ForbiddenException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HiveConfig } from '@hive/config';
import type { ApiKeyRole } from '@hive/database';
import { METRICS_PATH, routeLabel, type RoutedRequest } from '@hive/metrics';
import { presentedKey, presentedKeyHash, sameKey } from './api-key-format.js';
import { ApiKeyService } from './api-key.service.js';
import { REQUIRED_ROLE, roleAllows, type Principal } from './roles.js';

export type AuthenticatedRequest = RoutedRequest & { principal?: Principal };

/**
 * Routes that need no key; the metrics have a token of their own. (The API docs are served outside the router.)
 * /api/version is Ollama's, which clients ask before anything else, as Ollama needs no key.
 */
const OPEN_ROUTES = new Set(['/', '/health', '/health/ready', METRICS_PATH, '/api/version']);

/**
 * Whether a request needs no key, judged by the route template the router matched (`/api/tasks/:id`), not by the
 * URL: the router ignores case and a trailing slash, so `/API/tasks/` reaches the same handler as `/api/tasks`.
 * Anything not listed as open is closed.
 */
export function isOpenRoute(req: RoutedRequest): boolean {
  return OPEN_ROUTES.has(routeLabel(req));
}

/**
 * Every route needs a key but `/`, the probes and the metrics (which need METRICS_TOKEN when it is set); the API
 * docs never reach a guard. 401 for a missing or bad key, 403 for a role that may not.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly config: HiveConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (routeLabel(req) === METRICS_PATH) return this.metricsAllowed(req);
    if (isOpenRoute(req)) return true;

    if (presentedKey(req.headers) === undefined) {
      throw new UnauthorizedException('An API key is required (X-API-Key or Authorization: Bearer)');
    }
    const hash = presentedKeyHash(req);
    const principal = hash === undefined ? undefined : await this.keys.authenticate(hash);
    if (principal === undefined) throw new UnauthorizedException('The API key is unknown, revoked or expired');
    req.principal = principal;

    const required =
      this.reflector.getAllAndOverride<ApiKeyRole | undefined>(REQUIRED_ROLE, [
        context.getHandler(),
        context.getClass(),
      ]) ?? (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'admin');
    if (!roleAllows(principal.role, required)) {
      throw new ForbiddenException(`This needs the ${required} role; the key has ${principal.role}`);
    }
    return true;
  }

  private metricsAllowed(req: AuthenticatedRequest): boolean {
    const token = this.config.security.metricsToken;
    if (token === undefined) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (match?.[1] === undefined || !sameKey(match[1], token)) {
      throw new UnauthorizedException('The metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}

import { type CanActivate, type ExecutionContext, Injectable, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { HiveConfig } from '@hive/config';
import type { ApiKeyRole } from '@hive/database';
import { presentedKey, sameKey } from './api-key-format.js';
import { ApiKeyService } from './api-key.service.js';
import { REQUIRED_ROLE, roleAllows, type Principal } from './roles.js';

export type AuthenticatedRequest = IncomingMessage & { path?: string; principal?: Principal };

/** Paths under /api that need no key: the metrics (their own token) and the API documentation. */
export function isOpenPath(path: string): boolean {
  return !path.startsWith('/api/') || path === '/api/metrics' || /^\/api\/docs(-json|\/.*)?$/.test(path);
}

/**
 * Every /api route needs a key; `/`, the probes, the docs and the metrics (unless METRICS_TOKEN is set) are open.
 * 401 for a missing or bad key, 403 for a role that may not.
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
    const path = req.path ?? req.url ?? '/';
    if (path === '/api/metrics') return this.metricsAllowed(req);
    if (isOpenPath(path)) return true;

    const key = presentedKey(req.headers);
    if (key === undefined) throw new UnauthorizedException('An API key is required (X-API-Key or Authorization: Bearer)');
    const principal = key.length <= 512 ? await this.keys.authenticate(key) : undefined;
    if (principal === undefined) throw new UnauthorizedException('The API key is unknown, revoked or expired');
    req.principal = principal;

    const required =
      this.reflector.getAllAndOverride<ApiKeyRole | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]) ??
      (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'admin');
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

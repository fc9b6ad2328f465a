import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { hashApiKey, presentedKey } from './api-key-format.js';
import { isOpenRoute, type AuthenticatedRequest } from './auth.guard.js';

/**
 * Rate limit per presented key (per client address when there is none). `/`, the probes and the metrics are never
 * limited (the API docs are served outside the router). Counters live in this replica's memory: with N replicas a
 * client can make N times the limit.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    return Promise.resolve(isOpenRoute(req));
  }

  /** One budget per caller across all routes (the default would count each route separately). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const { headers, ip } = req as { headers: AuthenticatedRequest['headers']; ip?: string };
    const key = presentedKey(headers);
    // A hash, so the key itself never sits in the throttler's storage.
    return Promise.resolve(key !== undefined ? `key:${hashApiKey(key).toString('hex', 0, 16)}` : `ip:${ip ?? 'unknown'}`);
  }
}

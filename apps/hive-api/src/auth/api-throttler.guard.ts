import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { presentedKeyHash } from './api-key-format.js';
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
  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker; // the storage keeps each throttler's budgets apart itself
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as AuthenticatedRequest & { ip?: string };
    // A hash, so the key itself never sits in the throttler's storage (the same one the auth guard looks up).
    const hash = presentedKeyHash(request);
    return Promise.resolve(hash !== undefined ? `key:${hash.toString('hex', 0, 16)}` : `ip:${request.ip ?? 'unknown'}`);
  }
}

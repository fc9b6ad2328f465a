import type { OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

interface Budget {
  /** Start of the current fixed window (ms). */
  windowStart: number;
  current: number;
  previous: number;
  blockedUntil: number;
}

/** Budgets idle this long (in windows) are dropped by the sweep. */
const IDLE_WINDOWS = 2;
const SWEEP_MS = 60_000;

/**
 * The rate limit's counters, O(1) per request: a sliding window estimated from two fixed windows (the previous
 * window's hits weighted by how much of it the sliding window still covers, plus the current window's). The
 * storage that comes with @nestjs/throttler keeps a timestamp per hit and filters them all on every request: a
 * busy key at a limit of thousands paid for thousands of comparisons per request. A refused request does not count;
 * a caller over the limit stays refused for the block duration (the window, by default), and once that has passed,
 * as Retry-After said, it starts again with its whole budget.
 */
export class WindowThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly budgets = new Map<string, Budget>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
  private longestTtl = 0;

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    const now = Date.now();
    this.longestTtl = Math.max(this.longestTtl, ttl, blockDuration);
    const id = `${throttlerName}\u0000${key}`;
    let budget = this.budgets.get(id);
    if (budget === undefined || (budget.blockedUntil !== 0 && budget.blockedUntil <= now)) {
      budget = { windowStart: now, current: 0, previous: 0, blockedUntil: 0 };
      this.budgets.set(id, budget);
    }
    const windows = Math.floor((now - budget.windowStart) / ttl);
    if (windows > 0) {
      budget.previous = windows === 1 ? budget.current : 0;
      budget.current = 0;
      budget.windowStart += windows * ttl;
    }
    const timeToExpire = Math.ceil((budget.windowStart + ttl - now) / 1000);
    const estimate = budget.previous * (1 - (now - budget.windowStart) / ttl) + budget.current;
    if (budget.blockedUntil <= now && estimate + 1 <= limit) {
      budget.current += 1;
      return Promise.resolve({
        totalHits: Math.ceil(estimate) + 1,
        timeToExpire,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    if (budget.blockedUntil <= now) budget.blockedUntil = now + blockDuration;
    const timeToBlockExpire = Math.max(1, Math.ceil((budget.blockedUntil - now) / 1000));
    return Promise.resolve({ totalHits: limit + 1, timeToExpire, isBlocked: true, timeToBlockExpire });
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now = Date.now()): void {
    const idle = IDLE_WINDOWS * this.longestTtl;
    for (const [id, budget] of this.budgets) {
      if (budget.blockedUntil <= now && now - budget.windowStart >= idle) this.budgets.delete(id);
    }
  }
}

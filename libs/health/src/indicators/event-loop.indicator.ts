import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/**
 * Generous on purpose: liveness failing restarts the pod, which only helps when the process is wedged. A loop that
 * blocks for seconds at a time is broken; one that is merely busy shows in nodejs_eventloop_lag_* instead.
 */
const MAX_EVENT_LOOP_DELAY_MS = 10_000;
const WINDOW_MS = 10_000;

/** The longest event-loop stall over the last 10–20 s (Node's own delay histogram), for liveness. */
@Injectable()
export class EventLoopIndicator implements OnModuleDestroy {
  private readonly delay = monitorEventLoopDelay({ resolution: 20 });
  private previousWindowMaxMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly indicators: HealthIndicatorService) {
    this.delay.enable();
    this.timer = setInterval(() => {
      this.previousWindowMaxMs = this.delay.max / 1e6;
      this.delay.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  check<const Key extends string>(key: Key) {
    const maxDelayMs = Math.round(Math.max(this.previousWindowMaxMs, this.delay.max / 1e6));
    const session = this.indicators.check(key);
    return maxDelayMs <= MAX_EVENT_LOOP_DELAY_MS
      ? session.up({ max_delay_ms: maxDelayMs })
      : session.down({ max_delay_ms: maxDelayMs, message: `the event loop stalled for ${maxDelayMs} ms` });
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}

import { Injectable, type OnModuleDestroy } from '@nestjs/common';

/**
 * Whether this app has begun to shut down. Set in onModuleDestroy, the first hook Nest runs on SIGTERM (or close()),
 * and this module is torn down before the modules it imports (the coordinator, Terminus): readiness turns 503 before
 * the coordinator drains and Terminus waits out its grace period.
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private shuttingDown = false;

  get active(): boolean {
    return this.shuttingDown;
  }

  onModuleDestroy(): void {
    this.shuttingDown = true;
  }
}

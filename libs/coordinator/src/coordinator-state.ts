import { Injectable } from '@nestjs/common';
import { HiveConfig } from '@hive/config';

export type CoordinatorPhase = 'starting' | 'running' | 'draining' | 'stopped';

/**
 * What this replica's coordinator is doing, for health checks and metrics. The dispatcher updates it; readers
 * never change it.
 */
@Injectable()
export class CoordinatorState {
  readonly replicaId: string;
  phase: CoordinatorPhase = 'starting';
  /** When the dispatcher loop last completed a pass (claim attempt, poll or wake-up). */
  lastTick: Date | null = null;
  /** Agent calls this replica has in flight. */
  runningTasks = 0;

  constructor(config: HiveConfig) {
    this.replicaId = config.replicaId;
  }

  /** True while running and the loop has ticked within `maxAgeMs`. */
  isHealthy(maxAgeMs: number, now = Date.now()): boolean {
    return this.phase === 'running' && this.lastTick !== null && now - this.lastTick.getTime() <= maxAgeMs;
  }
}

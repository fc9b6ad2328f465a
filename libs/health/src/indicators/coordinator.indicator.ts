import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HiveConfig } from '@hive/config';
import { CoordinatorState } from '@hive/coordinator';

/** The dispatcher passes at least every QUEUE_POLL_MS; three missed polls (and never under 15 s) means it is stuck. */
const MIN_TICK_AGE_MS = 15_000;

/** Whether this replica's dispatcher is running and passing; read from memory, no I/O. */
@Injectable()
export class CoordinatorIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly state: CoordinatorState,
    private readonly config: HiveConfig,
  ) {}

  check<const Key extends string>(key: Key, now = Date.now()) {
    const maxAgeMs = Math.max(3 * this.config.coordinator.queuePollMs, MIN_TICK_AGE_MS);
    const { replicaId, phase, lastTick, runningTasks } = this.state;
    const data = {
      replica_id: replicaId,
      phase,
      running_tasks: runningTasks,
      last_tick: lastTick === null ? null : lastTick.toISOString(),
    };
    const session = this.indicators.check(key);
    if (this.state.isHealthy(maxAgeMs, now)) return session.up(data);
    const message =
      phase !== 'running'
        ? `the coordinator is ${phase}`
        : lastTick === null
          ? 'the dispatcher has not completed a pass yet'
          : `the dispatcher last completed a pass ${now - lastTick.getTime()} ms ago (limit ${maxAgeMs} ms)`;
    return session.down({ ...data, message });
  }
}

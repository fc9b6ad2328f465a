import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ShutdownState } from './shutdown-state.js';
import { DatabaseIndicator } from './indicators/database.indicator.js';
import { CoordinatorIndicator } from './indicators/coordinator.indicator.js';

/** Terminus' own body for a check refused because the app is shutting down. */
const SHUTTING_DOWN: HealthCheckResult = { status: 'shutting_down', info: {}, error: {}, details: {} };

export interface Readiness {
  readonly ready: boolean;
  readonly result: HealthCheckResult;
}

/**
 * Readiness: the database answers within HEALTH_CHECK_TIMEOUT_MS, every migration is applied, the coordinator is
 * dispatching, and the app is not shutting down. Agents are not part of it: a replica without agents still serves
 * the API, and taking every replica out of the load balancer would not bring an agent back.
 */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly shutdown: ShutdownState,
    private readonly database: DatabaseIndicator,
    private readonly coordinator: CoordinatorIndicator,
  ) {}

  async check(): Promise<Readiness> {
    if (this.shutdown.active) return { ready: false, result: SHUTTING_DOWN };
    try {
      const result = await this.health.check([
        () => this.database.ping('database'),
        () => this.database.migrations('migrations'),
        () => this.coordinator.check('coordinator'),
      ]);
      return { ready: true, result };
    } catch (error) {
      // Terminus reports a failed check (logged by it) as a 503 exception carrying the result.
      if (error instanceof ServiceUnavailableException) {
        return { ready: false, result: error.getResponse() as HealthCheckResult };
      }
      throw error;
    }
  }
}

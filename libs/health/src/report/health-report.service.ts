import { Injectable } from '@nestjs/common';
import { PACKAGE } from '@hive/config';
import { DatabaseStatus } from '@hive/database';
import { ShutdownState } from '../shutdown-state.js';
import { DatabaseIndicator } from '../indicators/database.indicator.js';
import { CoordinatorIndicator } from '../indicators/coordinator.indicator.js';
import { AgentsIndicator } from '../indicators/agents.indicator.js';
import {
  overallStatus,
  toComponent,
  type ComponentReport,
  type HealthReport,
  type IndicatorDetail,
} from './health-report.js';

/**
 * The full component report behind GET /api/health. Every database read is bounded by HEALTH_CHECK_TIMEOUT_MS and
 * they run side by side, so the report answers in about that time even when the database hangs.
 */
@Injectable()
export class HealthReportService {
  constructor(
    private readonly shutdown: ShutdownState,
    private readonly database: DatabaseIndicator,
    private readonly coordinator: CoordinatorIndicator,
    private readonly agents: AgentsIndicator,
    private readonly databaseStatus: DatabaseStatus,
  ) {}

  async report(): Promise<HealthReport> {
    const [ping, migrations, agents] = await Promise.all([
      this.database.ping('database'),
      this.database.migrations('migrations'),
      this.agents.check('agents'),
    ]);
    const api: ComponentReport = this.shutdown.active
      ? { status: 'unhealthy', error: 'shutting down' }
      : { status: 'healthy' };
    const components = {
      api,
      database: this.databaseComponent(ping.database, migrations.migrations),
      coordinator: toComponent(this.coordinator.check('coordinator').coordinator),
      agents: toComponent(agents.agents),
    };
    return {
      status: overallStatus(Object.values(components)),
      timestamp: new Date().toISOString(),
      version: PACKAGE.version,
      uptime: Math.round(process.uptime()),
      components,
    };
  }

  /** The ping decides; pending migrations make a reachable database unhealthy too. Pool figures are local, always known. */
  private databaseComponent(ping: IndicatorDetail, migrations: IndicatorDetail): ComponentReport {
    const pool = this.databaseStatus.pool();
    const failing = ping.status === 'up' ? migrations : ping;
    const { status, error } = toComponent(failing);
    const responseMs: unknown = ping.responseTime;
    return {
      status,
      ...(error === undefined ? {} : { error }),
      response_ms: typeof responseMs === 'number' ? responseMs : null,
      pool: pool === undefined ? null : { total: pool.total, idle: pool.idle, waiting: pool.waiting },
    };
  }
}

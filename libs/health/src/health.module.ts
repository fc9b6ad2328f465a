import { Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HiveConfig } from '@hive/config';
import { CoordinatorModule } from '@hive/coordinator';
import { readinessGraceMs } from './shutdown-grace.js';
import { ShutdownState } from './shutdown-state.js';
import { DatabaseIndicator } from './indicators/database.indicator.js';
import { CoordinatorIndicator } from './indicators/coordinator.indicator.js';
import { AgentsIndicator } from './indicators/agents.indicator.js';
import { EventLoopIndicator } from './indicators/event-loop.indicator.js';
import { ReadinessService } from './readiness.service.js';
import { ReadinessGauge } from './readiness.gauge.js';
import { HealthController } from './health.controller.js';
import { HealthReportService } from './report/health-report.service.js';

/** GET /health (liveness), /health/ready (readiness), the full report behind /api/health, and hive_ready. */
@Module({
  imports: [
    TerminusModule.forRootAsync({
      inject: [HiveConfig],
      useFactory: (config: HiveConfig) => ({
        gracefulShutdownTimeoutMs: readinessGraceMs(config),
        logger: new Logger('Health'),
      }),
    }),
    CoordinatorModule,
  ],
  controllers: [HealthController],
  providers: [
    ShutdownState,
    DatabaseIndicator,
    CoordinatorIndicator,
    AgentsIndicator,
    EventLoopIndicator,
    ReadinessService,
    ReadinessGauge,
    HealthReportService,
  ],
  exports: [HealthReportService],
})
export class HealthModule {}

import { Controller, Get, Res } from '@nestjs/common';
import { HealthCheck } from '@nestjs/terminus';
import { SERVICE_UNAVAILABLE, type StatusSetter } from '../http-status.js';
import { HealthReportService } from './health-report.service.js';
import type { HealthReport } from './health-report.js';

@Controller('api/health')
export class HealthReportController {
  constructor(private readonly reports: HealthReportService) {}

  /** 200 when every component is healthy; 503 with the same body when one is degraded or unhealthy. */
  @Get()
  @HealthCheck()
  async report(@Res({ passthrough: true }) res: StatusSetter): Promise<HealthReport> {
    const report = await this.reports.report();
    if (report.status !== 'healthy') res.status(SERVICE_UNAVAILABLE);
    return report;
  }
}

export { HealthModule } from './health.module.js';
export type { HealthReport, ComponentReport, ReportStatus } from './report/health-report.js';
export { HealthReportService } from './report/health-report.service.js';
export { SERVICE_UNAVAILABLE, type StatusSetter } from './http-status.js';

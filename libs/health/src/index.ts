export { HealthModule } from './health.module.js';
export type { HealthReport, ComponentReport, ReportStatus } from './report/health-report.js';

import type { HealthIndicatorResult } from '@nestjs/terminus';

export type ReportStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One component: its status, `error` when it is not healthy, and the figures its check produced. */
export interface ComponentReport {
  status: ReportStatus;
  error?: string;
  [figure: string]: unknown;
}

export interface HealthReport {
  status: ReportStatus;
  timestamp: string;
  version: string;
  /** Seconds since this process started. */
  uptime: number;
  components: {
    api: ComponentReport;
    database: ComponentReport;
    coordinator: ComponentReport;
    agents: ComponentReport;
  };
}

export type IndicatorDetail = HealthIndicatorResult[string];

const STATUS = { up: 'healthy', degraded: 'degraded', down: 'unhealthy' } as const;

/** Keys Terminus adds to an indicator's data; the report names its own (`error`, `response_ms`). */
const TERMINUS_KEYS = new Set(['status', 'message', 'responseTime', 'cachedResponse']);

/** A Terminus indicator's detail as a report component: its figures kept, `message` renamed `error`. */
export function toComponent(detail: IndicatorDetail): ComponentReport {
  const message: unknown = detail.message;
  const figures = Object.entries(detail).filter(([key]) => !TERMINUS_KEYS.has(key));
  return {
    status: STATUS[detail.status],
    ...(typeof message === 'string' ? { error: message } : {}),
    ...(Object.fromEntries(figures) as Record<string, unknown>),
  };
}

/** Unhealthy when a component is, else degraded when one is, else healthy. */
export function overallStatus(components: readonly ComponentReport[]): ReportStatus {
  if (components.some((c) => c.status === 'unhealthy')) return 'unhealthy';
  return components.some((c) => c.status === 'degraded') ? 'degraded' : 'healthy';
}

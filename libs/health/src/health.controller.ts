import { Controller, Get, Res } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { EventLoopIndicator } from './indicators/event-loop.indicator.js';
import { ReadinessService } from './readiness.service.js';
import { SERVICE_UNAVAILABLE, type StatusSetter } from './http-status.js';

/** Kubernetes probes. No API key: the kubelet and load balancers call them. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly eventLoop: EventLoopIndicator,
    private readonly readiness: ReadinessService,
  ) {}

  /**
   * Liveness: 200 while the process can serve, through a database outage and the shutdown grace alike (a failing
   * liveness probe restarts the pod, which cures neither). Only a stalled event loop fails it. It does not go through
   * HealthCheckService, which answers 503 once shutdown has begun.
   */
  @Get()
  @HealthCheck()
  live(@Res({ passthrough: true }) res: StatusSetter): { status: 'ok' } | HealthCheckResult {
    const result = this.eventLoop.check('event_loop');
    if (result.event_loop.status === 'up') return { status: 'ok' };
    res.status(SERVICE_UNAVAILABLE);
    return { status: 'error', info: {}, error: result, details: result };
  }

  /** Readiness: 200 with the Terminus details, or 503 with the failing checks under `error`. */
  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) res: StatusSetter): Promise<HealthCheckResult> {
    const { ready, result } = await this.readiness.check();
    if (!ready) res.status(SERVICE_UNAVAILABLE);
    return result;
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  type SchemaObject,
} from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { EventLoopIndicator } from './indicators/event-loop.indicator.js';
import { ReadinessService } from './readiness.service.js';
import { SERVICE_UNAVAILABLE, type StatusSetter } from './http-status.js';

/** One indicator's outcome in a Terminus result: its status and the figures it reports. */
const INDICATOR: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'down', 'degraded'] }, message: { type: 'string' } },
  additionalProperties: true,
};
const INDICATORS: SchemaObject = { type: 'object', additionalProperties: INDICATOR };

/** Terminus' HealthCheckResult: every check under `details`, the passing ones under `info`, the failing under `error`. */
const CHECK_RESULT: SchemaObject = {
  type: 'object',
  required: ['status', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: INDICATORS,
    error: INDICATORS,
    details: INDICATORS,
  },
};
const UP = { status: 'up' };
const READY = { database: UP, migrations: UP, coordinator: { status: 'up', phase: 'running', running_tasks: 0 } };
const STALLED = { status: 'down', max_delay_ms: 12000, message: 'the event loop stalled for 12000 ms' };
const DATABASE_DOWN = { status: 'down', message: 'timeout of 3000ms exceeded' };

/** Kubernetes probes. No API key: the kubelet and load balancers call them. */
@ApiTags('health')
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
  // Terminus would document the route itself, with a body liveness does not send; the decorators below say what it does.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ operationId: 'liveness', summary: 'Liveness probe: never touches the database (no key needed)' })
  @ApiOkResponse({
    description: 'The process serves',
    schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  @ApiServiceUnavailableResponse({
    description: 'The event loop stalled (event_loop under error)',
    schema: CHECK_RESULT,
    example: { status: 'error', info: {}, error: { event_loop: STALLED }, details: { event_loop: STALLED } },
  })
  live(@Res({ passthrough: true }) res: StatusSetter): { status: 'ok' } | HealthCheckResult {
    const result = this.eventLoop.check('event_loop');
    if (result.event_loop.status === 'up') return { status: 'ok' };
    res.status(SERVICE_UNAVAILABLE);
    return { status: 'error', info: {}, error: result, details: result };
  }

  /** Readiness: 200 with the Terminus details, or 503 with the failing checks under `error`. */
  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    operationId: 'readiness',
    summary: 'Readiness probe: database, migrations and dispatcher (no key needed)',
  })
  @ApiOkResponse({
    description: 'Ready: every check is up',
    schema: CHECK_RESULT,
    example: { status: 'ok', info: READY, error: {}, details: READY },
  })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: a check failed (under error), or shutdown has begun (status shutting_down)',
    schema: CHECK_RESULT,
    example: {
      status: 'error',
      info: { migrations: UP },
      error: { database: DATABASE_DOWN },
      details: { database: DATABASE_DOWN, migrations: UP },
    },
  })
  async ready(@Res({ passthrough: true }) res: StatusSetter): Promise<HealthCheckResult> {
    const { ready, result } = await this.readiness.check();
    if (!ready) res.status(SERVICE_UNAVAILABLE);
    return result;
  }
}

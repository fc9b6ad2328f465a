import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { register, Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';

export const METRICS_PATH = '/api/metrics';

interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/** GET /api/metrics: the process-wide registry and this app's own (see MetricsRegistry), as Prometheus text. */
@ApiTags('metrics')
// Open unless METRICS_TOKEN is set: no requirement ({}) or the token as a bearer. Never an API key.
@ApiBearerAuth('metrics_token')
@ApiSecurity({})
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly appRegistry: MetricsRegistry) {
    super();
  }

  @Get()
  @ApiOperation({
    operationId: 'metrics',
    summary: 'Prometheus metrics (Authorization: Bearer <METRICS_TOKEN> when it is set)',
  })
  @ApiOkResponse({
    description: 'The Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string', example: 'hive_ready 1' } } },
  })
  @ApiResponse({
    status: 401,
    description: 'METRICS_TOKEN is set and the request does not carry it',
    // The app's common error body, named as the app's document defines it (this library cannot import the app).
    schema: { $ref: '#/components/schemas/ErrorResponse' },
  })
  override async index(@Res({ passthrough: true }) response: HeaderSetter): Promise<string> {
    const merged = Registry.merge([register, this.appRegistry]);
    response.header('Content-Type', merged.contentType);
    return merged.metrics();
  }
}

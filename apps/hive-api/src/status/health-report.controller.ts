import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
  type SchemaObject,
} from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';
import { HealthReportService, SERVICE_UNAVAILABLE, type HealthReport, type StatusSetter } from '@hive/health';
import { ErrorResponse } from '../errors/dto/error.response.js';
import { API_KEY_BEARER_SCHEME, API_KEY_HEADER_SCHEME } from '../openapi/api-key-auth.decorator.js';

const STATUS: SchemaObject = { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] };
/** A component: its status, `error` when not healthy, and the figures its check produced. */
const COMPONENT: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: STATUS, error: { type: 'string' } },
  additionalProperties: true,
};
const REPORT: SchemaObject = {
  type: 'object',
  required: ['status', 'timestamp', 'version', 'uptime', 'components'],
  properties: {
    status: STATUS,
    timestamp: { type: 'string', format: 'date-time' },
    version: { type: 'string', example: '0.1.0' },
    uptime: { type: 'integer', minimum: 0, description: 'Seconds since this process started' },
    components: {
      type: 'object',
      required: ['api', 'database', 'coordinator', 'agents'],
      properties: { api: COMPONENT, database: COMPONENT, coordinator: COMPONENT, agents: COMPONENT },
    },
  },
};
const ERROR = { $ref: getSchemaPath(ErrorResponse) };

@ApiTags('health')
@ApiBearerAuth(API_KEY_BEARER_SCHEME)
@ApiSecurity(API_KEY_HEADER_SCHEME)
/** GET /api/health: the full report of libs/health, for people and dashboards with a key. */
@Controller('api/health')
export class HealthReportController {
  constructor(private readonly reports: HealthReportService) {}

  /** 200 when every component is healthy; 503 with the same body when one is degraded or unhealthy. */
  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    operationId: 'healthReport',
    summary: 'The full component report: database with pool, coordinator, agents',
  })
  @ApiOkResponse({ description: 'Every component is healthy', schema: REPORT })
  @ApiResponse({ status: 401, description: 'No API key, or an unknown, revoked or expired one', schema: ERROR })
  @ApiResponse({
    status: 429,
    description: 'Rate limit reached; retry after Retry-After seconds',
    schema: ERROR,
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer', minimum: 0 } } },
  })
  @ApiResponse({
    status: 503,
    description: 'A component is degraded or unhealthy (the report names it), or the database could not check the key',
    schema: { anyOf: [REPORT, ERROR] },
  })
  async report(@Res({ passthrough: true }) res: StatusSetter): Promise<HealthReport> {
    const report = await this.reports.report();
    if (report.status !== 'healthy') res.status(SERVICE_UNAVAILABLE);
    return report;
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { METRICS_PATH, MetricsExposition } from '@hive/metrics';
import { ErrorResponse } from '../errors/dto/error.response.js';

interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/** GET /api/metrics for Prometheus: open unless METRICS_TOKEN is set (the auth guard checks it), never an API key. */
@ApiTags('metrics')
// No requirement ({}) or the token as a bearer.
@ApiBearerAuth('metrics_token')
@ApiSecurity({})
@Controller()
export class MetricsController {
  constructor(private readonly exposition: MetricsExposition) {}

  @Get(METRICS_PATH)
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
    type: ErrorResponse,
  })
  async metrics(@Res({ passthrough: true }) response: HeaderSetter): Promise<string> {
    const { contentType, body } = await this.exposition.render();
    response.header('Content-Type', contentType);
    return body;
  }
}

import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PACKAGE } from '@hive/config';
import { ServiceInfoResponse } from './dto/service-info.response.js';

@ApiTags('service')
@Controller()
export class RootController {
  /** Names the service, so a person or a load balancer can tell what answers on this port. */
  @Get()
  @ApiOperation({ operationId: 'describeService', summary: 'Which service answers here (no key needed)' })
  @ApiOkResponse({ type: ServiceInfoResponse, description: 'Name and version' })
  describe(): ServiceInfoResponse {
    return { service: PACKAGE.name, version: PACKAGE.version };
  }
}

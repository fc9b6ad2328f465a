import { Controller, Get } from '@nestjs/common';
import { PACKAGE } from '@hive/config';

@Controller()
export class RootController {
  /** Names the service, so a person or a load balancer can tell what answers on this port. */
  @Get()
  describe(): { service: string; version: string } {
    return { service: PACKAGE.name, version: PACKAGE.version };
  }
}

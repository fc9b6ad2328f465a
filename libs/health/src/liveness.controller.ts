import { Controller, Get } from '@nestjs/common';

@Controller('health')
export class LivenessController {
  /** Liveness: the process answers. Never touches the database, so an outage does not get pods restarted. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

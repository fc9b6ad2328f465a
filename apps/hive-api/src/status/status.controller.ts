import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PACKAGE } from '@hive/config';
import { AgentRegistry, CoordinatorState, countAgents, TaskService } from '@hive/coordinator';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';
import { StatusResponse } from './dto/status.response.js';

@ApiTags('status')
@ApiKeyAuth()
@Controller('api/status')
export class StatusController {
  constructor(
    private readonly agents: AgentRegistry,
    private readonly tasks: TaskService,
    private readonly coordinator: CoordinatorState,
  ) {}

  /** The whole picture from the database, so every replica gives the same answer (uptime is this process'). */
  @Get()
  @ApiOperation({ operationId: 'getStatus', summary: 'The system, agent and task summary' })
  @ApiOkResponse({ type: StatusResponse, description: 'The same from every replica (uptime aside)' })
  async status(): Promise<StatusResponse> {
    const [details, tasks] = await Promise.all([this.agents.list(), this.tasks.counts()]);
    return {
      system: { status: this.coordinator.phase, uptime: Math.round(process.uptime()), version: PACKAGE.version },
      agents: { ...countAgents(details), details },
      tasks,
    };
  }
}

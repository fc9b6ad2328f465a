import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AgentRegistry } from '@hive/coordinator';
import { ApiErrors, type RouteError } from '../openapi/api-errors.decorator.js';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';
import { AgentIdParams } from './dto/agent-id.params.js';
import { AgentListResponse, AgentResponse } from './dto/agent.response.js';
import { AgentRegisteredResponse, AgentRemovedResponse } from './dto/agent-outcome.response.js';
import { DeleteAgentQuery } from './dto/delete-agent.query.js';
import { RegisterAgentDto } from './dto/register-agent.dto.js';
import { UpdateAgentDto } from './dto/update-agent.dto.js';
import { EndpointPolicy } from './endpoint-policy.js';

const NOT_REGISTERED: RouteError = {
  status: 404,
  description: 'No agent has this id',
  message: 'Agent coder-1 is not registered',
};

@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/agents')
export class AgentsController {
  constructor(
    private readonly registry: AgentRegistry,
    private readonly endpoints: EndpointPolicy,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'registerAgent',
    summary: 'Register an agent (an Ollama server)',
    description: 'Needs the admin role.',
  })
  @ApiCreatedResponse({ type: AgentRegisteredResponse, description: 'Registered; dispatching to it starts at once' })
  @ApiErrors(
    400,
    403,
    {
      status: 409,
      description: 'An agent with this id is already registered',
      message: 'Agent coder-1 is already registered',
    },
    413,
  )
  async register(@Body() dto: RegisterAgentDto): Promise<AgentRegisteredResponse> {
    this.endpoints.check(dto.endpoint);
    await this.registry.register(dto);
    return { status: 'success', message: `Agent ${dto.id} registered`, agent_id: dto.id };
  }

  @Get()
  @ApiOperation({ operationId: 'listAgents', summary: 'List the agents with their load and status' })
  @ApiOkResponse({ type: AgentListResponse, description: 'Every agent, ordered by id' })
  async list(): Promise<AgentListResponse> {
    const agents = await this.registry.list();
    return { agents, total: agents.length };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAgent', summary: 'Read one agent' })
  @ApiOkResponse({ type: AgentResponse, description: 'The agent' })
  @ApiErrors(400, NOT_REGISTERED)
  get(@Param() { id }: AgentIdParams): Promise<AgentResponse> {
    return this.registry.get(id);
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateAgent', summary: 'Change an agent', description: 'Needs the admin role.' })
  @ApiOkResponse({ type: AgentResponse, description: 'The updated agent' })
  @ApiErrors(400, 403, NOT_REGISTERED, 413)
  update(@Param() { id }: AgentIdParams, @Body() dto: UpdateAgentDto): Promise<AgentResponse> {
    if (dto.endpoint !== undefined) this.endpoints.check(dto.endpoint);
    return this.registry.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'removeAgent', summary: 'Remove an agent', description: 'Needs the admin role.' })
  @ApiOkResponse({ type: AgentRemovedResponse, description: 'Removed' })
  @ApiErrors(400, 403, NOT_REGISTERED, {
    status: 409,
    description: 'The agent is running tasks and force is not true',
    message: 'Agent coder-1 is running 1 task(s); use ?force=true to requeue them',
  })
  async remove(@Param() { id }: AgentIdParams, @Query() { force }: DeleteAgentQuery): Promise<AgentRemovedResponse> {
    const { requeued } = await this.registry.remove(id, force);
    return { status: 'success', message: `Agent ${id} removed`, requeued_tasks: requeued };
  }
}

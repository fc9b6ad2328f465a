import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { AgentRegistry, type AgentView } from '@hive/coordinator';
import { AgentIdParams } from './dto/agent-id.params.js';
import { DeleteAgentQuery } from './dto/delete-agent.query.js';
import { RegisterAgentDto } from './dto/register-agent.dto.js';
import { UpdateAgentDto } from './dto/update-agent.dto.js';
import { EndpointPolicy } from './endpoint-policy.js';

@Controller('api/agents')
export class AgentsController {
  constructor(
    private readonly registry: AgentRegistry,
    private readonly endpoints: EndpointPolicy,
  ) {}

  @Post()
  async register(@Body() dto: RegisterAgentDto): Promise<{ status: 'success'; message: string; agent_id: string }> {
    this.endpoints.check(dto.endpoint);
    await this.registry.register(dto);
    return { status: 'success', message: `Agent ${dto.id} registered`, agent_id: dto.id };
  }

  @Get()
  async list(): Promise<{ agents: AgentView[]; total: number }> {
    const agents = await this.registry.list();
    return { agents, total: agents.length };
  }

  @Get(':id')
  get(@Param() { id }: AgentIdParams): Promise<AgentView> {
    return this.registry.get(id);
  }

  @Patch(':id')
  update(@Param() { id }: AgentIdParams, @Body() dto: UpdateAgentDto): Promise<AgentView> {
    if (dto.endpoint !== undefined) this.endpoints.check(dto.endpoint);
    return this.registry.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(
    @Param() { id }: AgentIdParams,
    @Query() { force }: DeleteAgentQuery,
  ): Promise<{ status: 'success'; message: string; requeued_tasks: number }> {
    const { requeued } = await this.registry.remove(id, force);
    return { status: 'success', message: `Agent ${id} removed`, requeued_tasks: requeued };
  }
}

import { ApiProperty } from '@nestjs/swagger';
import type { Serialized } from '../../openapi/serialized.js';
import type { AgentsController } from '../agents.controller.js';

type Answer<K extends keyof AgentsController> = Serialized<Awaited<ReturnType<AgentsController[K]>>>;

export class AgentRegisteredResponse implements Answer<'register'> {
  @ApiProperty({ enum: ['success'] })
  status!: 'success';

  @ApiProperty({ example: 'Agent coder-1 registered' })
  message!: string;

  @ApiProperty({ example: 'coder-1' })
  agent_id!: string;
}

export class AgentRemovedResponse implements Answer<'remove'> {
  @ApiProperty({ enum: ['success'] })
  status!: 'success';

  @ApiProperty({ example: 'Agent coder-1 removed' })
  message!: string;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Running tasks put back in the queue (force=true)',
    example: 0,
  })
  requeued_tasks!: number;
}

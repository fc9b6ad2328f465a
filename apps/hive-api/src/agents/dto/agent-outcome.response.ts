import { ApiProperty } from '@nestjs/swagger';

export class AgentRegisteredResponse {
  @ApiProperty({ enum: ['success'] })
  status!: 'success';

  @ApiProperty({ example: 'Agent coder-1 registered' })
  message!: string;

  @ApiProperty({ example: 'coder-1' })
  agent_id!: string;
}

export class AgentRemovedResponse {
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

import { ApiProperty } from '@nestjs/swagger';
import type { AgentStatus, AgentView } from '@hive/coordinator';
import { AGENT_ID, AGENT_KINDS, SPECIALTY } from './agent-fields.js';

/** Written as a record so that the compiler checks the list against AgentStatus. */
const STATUS_MEANINGS: Record<AgentStatus, string> = {
  available: 'takes tasks',
  busy: 'at max_concurrent',
  offline: 'disabled, or AGENT_MAX_FAILURES consecutive failures (see last_error)',
};
const AGENT_STATUSES = Object.keys(STATUS_MEANINGS);

/** An agent as the API reports it: its load and status are derived from the tasks table. */
export class AgentResponse implements AgentView {
  @ApiProperty({ pattern: AGENT_ID.source, example: 'coder-1' })
  id!: string;

  @ApiProperty({ format: 'uri', example: 'http://gpu-1:11434' })
  endpoint!: string;

  @ApiProperty({ example: 'llama3:8b' })
  model!: string;

  @ApiProperty({ pattern: SPECIALTY.source, description: 'The task type this agent serves', example: 'code' })
  specialty!: string;

  @ApiProperty({ enum: AGENT_KINDS, enumName: 'AgentKind' })
  kind!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1000, example: 2 })
  max_concurrent!: number;

  @ApiProperty({ example: true })
  enabled!: boolean;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Tasks in progress on this agent, over all replicas',
    example: 1,
  })
  current_tasks!: number;

  @ApiProperty({
    enum: AGENT_STATUSES,
    enumName: 'AgentStatus',
    description: Object.entries(STATUS_MEANINGS)
      .map(([status, meaning]) => `${status}: ${meaning}`)
      .join('; '),
  })
  status!: AgentStatus;

  @ApiProperty({ type: 'integer', minimum: 0, example: 0 })
  consecutive_failures!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last successful call or probe' })
  last_seen!: Date | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last call or probe failed', example: null })
  last_error!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: Date;
}

export class AgentListResponse {
  @ApiProperty({ type: [AgentResponse], description: 'Ordered by id' })
  agents!: AgentResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, example: 1 })
  total!: number;
}

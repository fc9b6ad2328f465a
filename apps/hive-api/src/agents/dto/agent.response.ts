import { ApiProperty } from '@nestjs/swagger';
import { AGENT_KINDS, type AgentStatus, type AgentView } from '@hive/coordinator';
import { AGENT_ID, SPECIALTY } from './agent-fields.js';

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

  @ApiProperty({ description: 'Its default model: tasks that name no model run on it', example: 'llama3:8b' })
  model!: string;

  @ApiProperty({
    type: [String],
    description: 'The models it serves, as its last probe found them (its default model until the first probe)',
    example: ['llama3:8b', 'nomic-embed-text:latest'],
  })
  models!: string[];

  @ApiProperty({
    type: [String],
    description:
      'The models Hive takes to be loaded in its memory now, most recently used first: those it reported at the ' +
      'last probe (Ollama) and those Hive sent it since, within their keep-alive',
    example: ['llama3:8b'],
  })
  loaded_models!: string[];

  @ApiProperty({ pattern: SPECIALTY.source, description: 'The task type this agent serves', example: 'code' })
  specialty!: string;

  @ApiProperty({ enum: AGENT_KINDS, enumName: 'AgentKind', description: 'The protocol it speaks' })
  kind!: string;

  @ApiProperty({
    description: 'Whether an API key is stored for it (the key itself is never returned)',
    example: false,
  })
  has_api_key!: boolean;

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

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When a probe last found the models it serves',
  })
  models_probed_at!: Date | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until when it asked not to be called (Retry-After on a 429 or 503): no task goes to it before then',
  })
  paused_until!: Date | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: Date;
}

export class AgentListResponse {
  @ApiProperty({ type: [AgentResponse], description: 'Ordered by id' })
  agents!: AgentResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, example: 1 })
  total!: number;
}

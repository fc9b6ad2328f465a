import { ApiProperty } from '@nestjs/swagger';
import { TASK_STATUSES, type SubmittedTask, type TaskPage, type TaskStatus, type TaskView } from '@hive/database';
import { SPECIALTY } from '../../agents/dto/agent-fields.js';

const EXAMPLE_ID = '6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f';

/** What POST /api/tasks answers: the stored task's identity, before any agent has seen it. */
export class CreatedTaskResponse implements SubmittedTask {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID })
  id!: string;

  @ApiProperty({ pattern: SPECIALTY.source, example: 'code' })
  type!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5, description: '5 runs first', example: 4 })
  priority!: number;

  @ApiProperty({ enum: TASK_STATUSES, enumName: 'TaskStatus' })
  status!: TaskStatus;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { prompt: 'Write a binary search in Go' } })
  context!: Record<string, unknown>;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: Date;
}

/** What POST /api/tasks/batch answers: the stored tasks, in the order given. */
export class CreatedTaskBatchResponse {
  @ApiProperty({ type: [CreatedTaskResponse] })
  tasks!: CreatedTaskResponse[];
}

/** A task as the API reports it. */
export class TaskResponse extends CreatedTaskResponse implements TaskView {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The agent running or last running it',
    example: 'coder-1',
  })
  assigned_agent!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      "The agent's answer once completed: response, model, done_reason, prompt_eval_count, eval_count, " +
      'total_duration and eval_duration (nanoseconds, as Ollama reports them)',
    example: { response: 'func search(…) …', model: 'llama3:8b', done_reason: 'stop', eval_count: 120 },
  })
  result!: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why it failed', example: null })
  error!: string | null;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Agent calls made so far', example: 1 })
  attempts!: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 3 })
  max_attempts!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Per-call timeout; null: AGENT_TASK_TIMEOUT_MS',
    example: null,
  })
  timeout_ms!: number | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  started_at!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at!: Date | null;
}

export class TaskListResponse implements TaskPage {
  @ApiProperty({ type: [TaskResponse], description: 'Newest first' })
  tasks!: TaskResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Every task', example: 42 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'The tasks matching the filter', example: 7 })
  filtered!: number;
}

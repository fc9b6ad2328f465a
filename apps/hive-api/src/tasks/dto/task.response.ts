import { ApiExtraModels, ApiProperty } from '@nestjs/swagger';
import {
  GATEWAY_DIALECTS,
  TASK_OPERATIONS,
  TASK_STATUSES,
  type GatewayDialect,
  type SubmittedTask,
  type TaskRetain,
  type TaskOperation,
  type TaskStatus,
} from '@hive/database';
import type { TaskDetails, TaskDetailsPage } from '@hive/coordinator';
import { MODEL_NAME, SPECIALTY } from '../../agents/dto/agent-fields.js';
import { INPUT_SCHEMA_NAMES } from './task-input.validator.js';
import { oneOfOrNull } from '../../openapi/nullable-schema.js';
import { TaskResultResponse } from './task-result.response.js';
import { WebhookDeliveryResponse } from './webhook-delivery.response.js';

const EXAMPLE_ID = '6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f';

/** What POST /api/tasks answers: the stored task's identity, before any agent has seen it. */
export class CreatedTaskResponse implements SubmittedTask {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID })
  id!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    pattern: SPECIALTY.source,
    description: 'The specialty it needs; null: any agent serving its model',
    example: 'code',
  })
  type!: string | null;

  @ApiProperty({ enum: TASK_OPERATIONS, enumName: 'TaskOperation' })
  operation!: TaskOperation;

  @ApiProperty({
    type: String,
    nullable: true,
    pattern: MODEL_NAME.source,
    description: "The model it needs; null: its agent's default model",
    example: null,
  })
  model!: string | null;

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
@ApiExtraModels(TaskResultResponse, WebhookDeliveryResponse)
export class TaskResponse extends CreatedTaskResponse implements TaskDetails {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The agent running or last running it',
    example: 'coder-1',
  })
  assigned_agent!: string | null;

  @ApiProperty({
    ...oneOfOrNull(...INPUT_SCHEMA_NAMES),
    description: "The operation's input as Hive stored it (null: the prompt comes from the context)",
  })
  input!: Record<string, unknown> | null;

  @ApiProperty({
    ...oneOfOrNull('TaskResult'),
    description: "The agent's answer once completed, in one shape whatever the agent's protocol",
  })
  result!: TaskResultResponse | null;

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

  @ApiProperty({ description: "Its agent call streams; the pieces reach GET /api/tasks/{id}/events' token events" })
  stream!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Where its webhook goes when it ends',
    example: 'https://app.example.com/hooks/hive',
  })
  callback_url!: string | null;

  @ApiProperty({
    ...oneOfOrNull('WebhookDelivery'),
    description: 'Its webhook delivery, once it ended with a callback_url',
  })
  webhook!: WebhookDeliveryResponse | null;

  // Inline, not a named enum: `nullable` beside a $ref is lost on validators (see nullable-schema.ts).
  @ApiProperty({
    type: String,
    enum: [...GATEWAY_DIALECTS, null],
    nullable: true,
    description: 'The client API it came through (openai: /v1, ollama: /api/chat …); null when submitted here',
  })
  gateway!: GatewayDialect | null;

  @ApiProperty({
    enum: ['full', 'metadata'],
    description:
      'metadata: its input and the content of its answer are forgotten once the call ended (GATEWAY_RETAIN); ' +
      'model, token counts, timings and status stay',
  })
  retain!: TaskRetain;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  started_at!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at!: Date | null;
}

/** What POST /api/tasks/batch?wait answers: the tasks as GET shows them, in the order given. */
export class TaskBatchResponse {
  @ApiProperty({ type: [TaskResponse] })
  tasks!: TaskResponse[];
}

export class TaskListResponse implements TaskDetailsPage {
  @ApiProperty({ type: [TaskResponse], description: 'Newest first' })
  tasks!: TaskResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Every task', example: 42 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'The tasks matching the filter', example: 7 })
  filtered!: number;
}

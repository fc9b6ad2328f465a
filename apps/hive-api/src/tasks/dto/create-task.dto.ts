import { ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';
import { TASK_OPERATIONS, type TaskOperation } from '@hive/database';
import { BoundedJsonObject } from '../../validation/bounded-json.js';
import { MODEL_NAME, MODEL_NAME_MESSAGE, SPECIALTY } from '../../agents/dto/agent-fields.js';
import { IfPresent } from '../../validation/if-present.js';
import { INPUT_SCHEMA_NAMES, TaskInput } from './task-input.validator.js';

/** How big and deep a task's context may be. */
export const CONTEXT_BOUNDS = { maxDepth: 10, maxBytes: 256 * 1024 };
/** How deep a task's input may be (JSON schemas nest); its size is BODY_LIMIT's to bound. */
export const INPUT_BOUNDS = { maxDepth: 32, maxBytes: Infinity };

/** `stream`: a boolean, and only for the operations that produce text. */
const StreamFlag = (): PropertyDecorator =>
  ValidateBy({
    name: 'streamFlag',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        value === undefined ||
        (typeof value === 'boolean' && !(value && (args?.object as CreateTaskDto | undefined)?.operation === 'embed')),
      defaultMessage: ({ value }: ValidationArguments) =>
        typeof value === 'boolean'
          ? 'stream applies to generate and chat, not to embed'
          : 'stream must be true or false',
    },
  });

const CALLBACK_URL = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  require_host: true,
  // A password in the URL would be shown to every reader of the task.
  disallow_auth: true,
};

/** Neither type nor model: the task names no agent that could run it. */
const NEEDS_ROUTE = (dto: CreateTaskDto) => dto.model === undefined || dto.model === null;

@ApiSchema({ name: 'CreateTaskRequest' })
export class CreateTaskDto {
  @ApiPropertyOptional({
    description:
      'The specialty of the agents that may run it. A task names a type, a model, or both; a registered agent must ' +
      'be able to run it',
    pattern: SPECIALTY.source,
    example: 'code',
  })
  @ValidateIf((dto: CreateTaskDto, value: unknown) => value !== undefined || NEEDS_ROUTE(dto))
  @Matches(SPECIALTY, {
    message: ({ value }: ValidationArguments) =>
      value === undefined
        ? 'type or model must be given'
        : 'type must be a slug: lowercase letters, digits, ., - and _',
  })
  type?: string;

  @ApiPropertyOptional({
    enum: TASK_OPERATIONS,
    enumName: 'TaskOperation',
    default: 'generate',
    description: 'What the agent is asked: generate (a completion of a prompt), chat (the next message) or embed',
  })
  @IfPresent()
  @IsIn(TASK_OPERATIONS, { message: `operation must be one of ${TASK_OPERATIONS.join(', ')}` })
  operation?: TaskOperation;

  @ApiPropertyOptional({
    description:
      "The model to run it with: any agent serving it may take it (of the task's type, when it names one). " +
      "Without it, the task runs on its agent's default model",
    pattern: MODEL_NAME.source,
    maxLength: 200,
    example: 'llama3.1:8b',
  })
  @IfPresent()
  @Matches(MODEL_NAME, { message: `model ${MODEL_NAME_MESSAGE}` })
  model?: string;

  @ApiPropertyOptional({
    description:
      "The operation's input: GenerateInput, ChatInput or EmbedInput. Without it, the context makes the prompt " +
      "(a chat gets it as one user message, an embed as its text). Chat messages may also come in OpenAI's shape " +
      '(content parts, tool-call arguments as JSON text, tool_call_id)',
    oneOf: INPUT_SCHEMA_NAMES.map((name) => ({ $ref: getSchemaPath(name) })),
  })
  // Checked even when absent: a task that names only a model needs an input or a context.
  @TaskInput(INPUT_BOUNDS)
  input?: Record<string, unknown>;

  /** 1–5; 5 runs first. */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 5,
    default: 3,
    description: '5 runs first; equal priorities run oldest first',
  })
  // Absent means 3; an explicit null is refused (IsOptional would let it through to the NOT NULL column).
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined)
  @IsInt()
  @Min(1)
  @Max(5)
  priority: number = 3;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    default: {},
    description:
      'A JSON object, at most 10 levels deep and 256 KB. The agent gets context.prompt as the prompt (else the ' +
      'context as key: value lines); context.system and context.options pass through',
    example: { prompt: 'Write a binary search in Go' },
  })
  // Absent means {}; an explicit null is refused like any other non-object.
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined)
  @BoundedJsonObject(CONTEXT_BOUNDS)
  context: Record<string, unknown> = {};

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 20,
    description: 'Agent calls before it fails; default TASK_MAX_ATTEMPTS',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  max_attempts?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 100,
    maximum: 3_600_000,
    description: 'Per-call timeout; default AGENT_TASK_TIMEOUT_MS',
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  timeout_ms?: number;

  @ApiPropertyOptional({
    default: false,
    description:
      "Stream the agent's answer: its pieces reach GET /api/tasks/{id}/events as token events while it is generated " +
      '(generate and chat)',
  })
  @StreamFlag()
  stream?: boolean;

  @ApiPropertyOptional({
    format: 'uri',
    maxLength: 2048,
    description:
      'When the task ends (completed, failed or cancelled), Hive POSTs it here, signed per the Standard Webhooks ' +
      'specification, and retries until it gets a 2xx. http or https; WEBHOOK_ALLOWLIST (else AGENT_ENDPOINT_ALLOWLIST) ' +
      'may restrict the hosts; needs WEBHOOK_SECRET',
    example: 'https://app.example.com/hooks/hive',
  })
  @IfPresent()
  @IsUrl(CALLBACK_URL, { message: 'callback_url must be an http:// or https:// URL' })
  @MaxLength(2048)
  callback_url?: string;
}

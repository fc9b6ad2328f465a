import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { TaskResult, ToolCall } from '@hive/coordinator';

@ApiSchema({ name: 'ToolCallFunction' })
export class ToolCallFunctionResponse {
  @ApiProperty({ example: 'get_weather' })
  name!: string;

  @ApiProperty({
    oneOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }],
    description: "The arguments as an object; the model's raw text when it was not a JSON object",
    example: { city: 'Paris' },
  })
  arguments!: Record<string, unknown> | string;
}

@ApiSchema({ name: 'ToolCall' })
export class ToolCallResponse implements ToolCall {
  @ApiProperty({ description: "The call's id (the agent's, or one Hive made)", example: 'call_0' })
  id!: string;

  @ApiProperty({ enum: ['function'] })
  type!: 'function';

  @ApiProperty({ type: ToolCallFunctionResponse })
  function!: ToolCallFunctionResponse;
}

@ApiSchema({ name: 'AssistantMessage' })
export class AssistantMessageResponse {
  @ApiProperty({ enum: ['assistant'] })
  role!: 'assistant';

  @ApiProperty({ description: 'The text of the answer (empty when the model only called tools)', example: 'Sunny.' })
  content!: string;

  @ApiPropertyOptional({ type: [ToolCallResponse], description: 'The tools the model asked to call' })
  tool_calls?: ToolCallResponse[];
}

/** A task's result: one shape for every protocol; which of message, response and embeddings depends on the operation. */
@ApiSchema({ name: 'TaskResult' })
export class TaskResultResponse implements TaskResult {
  @ApiPropertyOptional({ type: AssistantMessageResponse, description: 'chat: the assistant message' })
  message?: AssistantMessageResponse;

  @ApiPropertyOptional({ description: 'generate: the text', example: 'func search(…) …' })
  response?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    description: 'embed: one vector per input, in the order given',
  })
  embeddings?: number[][];

  @ApiProperty({ description: 'The model that answered, as the agent named it', example: 'llama3:8b' })
  model!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why generation stopped: stop, length, tool_calls, content_filter, or what the agent said',
    example: 'stop',
  })
  done_reason!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Prompt tokens', example: 31 })
  prompt_eval_count!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Generated tokens', example: 120 })
  eval_count!: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Nanoseconds: as an Ollama agent reports it, else as Hive measured the call',
    example: 2100000000,
  })
  total_duration?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Nanoseconds spent generating (Ollama agents)' })
  eval_duration?: number;
}

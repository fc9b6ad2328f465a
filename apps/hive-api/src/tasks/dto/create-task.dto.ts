import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsInt, IsOptional, Matches, Max, Min, ValidateIf } from 'class-validator';
import { BoundedJsonObject } from '../../validation/bounded-json.js';
import { SPECIALTY } from '../../agents/dto/agent-fields.js';

/** How big and deep a task's context may be. */
export const CONTEXT_BOUNDS = { maxDepth: 10, maxBytes: 256 * 1024 };

@ApiSchema({ name: 'CreateTaskRequest' })
export class CreateTaskDto {
  @ApiProperty({
    description: 'The specialty of the agents that may run it; a registered agent must serve it',
    pattern: SPECIALTY.source,
    example: 'code',
  })
  @Matches(SPECIALTY, { message: 'type must be a slug: lowercase letters, digits, ., - and _' })
  type!: string;

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
}

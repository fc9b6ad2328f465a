import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { BoundedJsonObject } from '../../validation/bounded-json.js';
import { SPECIALTY } from '../../agents/dto/agent-fields.js';

export class CreateTaskDto {
  @Matches(SPECIALTY, { message: 'type must be a slug: lowercase letters, digits, ., - and _' })
  type!: string;

  /** 1–5; 5 runs first. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  priority: number = 3;

  @IsOptional()
  @BoundedJsonObject({ maxDepth: 10, maxBytes: 256 * 1024 })
  context: Record<string, unknown> = {};

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  max_attempts?: number;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  timeout_ms?: number;
}

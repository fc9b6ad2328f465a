import { IsInt, IsObject, IsOptional, Matches, Max, Min } from 'class-validator';
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
  @IsObject({ message: 'context must be a JSON object' })
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

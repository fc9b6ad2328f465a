import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TASK_STATUSES, type TaskStatus } from '@hive/database';
import { AGENT_ID, MODEL_NAME, SPECIALTY } from '../../agents/dto/agent-fields.js';

export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES, enumName: 'TaskStatus' })
  @IsOptional()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;

  @ApiPropertyOptional({ description: 'Only tasks of this type', pattern: SPECIALTY.source, example: 'code' })
  @IsOptional()
  @Matches(SPECIALTY, { message: 'type must be a slug' })
  type?: string;

  @ApiPropertyOptional({
    description: 'Only tasks assigned to this agent',
    pattern: AGENT_ID.source,
    example: 'coder-1',
  })
  @IsOptional()
  @Matches(AGENT_ID, { message: 'agent must be an agent id' })
  agent?: string;

  @ApiPropertyOptional({
    description: 'Only tasks that name this model',
    pattern: MODEL_NAME.source,
    example: 'llama3:8b',
  })
  @IsOptional()
  @Matches(MODEL_NAME, { message: 'model must be a model name' })
  model?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 20;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

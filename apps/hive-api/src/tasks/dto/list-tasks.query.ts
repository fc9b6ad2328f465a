import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TASK_STATUSES, type TaskStatus } from '@hive/database';
import { AGENT_ID, SPECIALTY } from '../../agents/dto/agent-fields.js';

export class ListTasksQuery {
  @IsOptional()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;

  @IsOptional()
  @Matches(SPECIALTY, { message: 'type must be a slug' })
  type?: string;

  @IsOptional()
  @Matches(AGENT_ID, { message: 'agent must be an agent id' })
  agent?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 20;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

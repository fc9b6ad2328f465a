import { ApiProperty } from '@nestjs/swagger';
import type { AgentCounts, CoordinatorPhase } from '@hive/coordinator';
import type { TaskCounts } from '@hive/database';
import { AgentResponse } from '../../agents/dto/agent.response.js';

/** Written as a record so that the compiler checks the list against CoordinatorPhase. */
const PHASES: Record<CoordinatorPhase, true> = { starting: true, running: true, draining: true, stopped: true };

export class SystemStatusResponse {
  @ApiProperty({
    enum: Object.keys(PHASES),
    enumName: 'CoordinatorPhase',
    description: "This replica's coordinator phase",
    example: 'running',
  })
  status!: CoordinatorPhase;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Seconds since this process started', example: 3600 })
  uptime!: number;

  @ApiProperty({ example: '0.1.0' })
  version!: string;
}

export class AgentSummaryResponse implements AgentCounts {
  @ApiProperty({ type: 'integer', minimum: 0, example: 3 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 2 })
  available!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 1 })
  busy!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 0 })
  offline!: number;

  @ApiProperty({ type: [AgentResponse] })
  details!: AgentResponse[];
}

/** Tasks in each status, and in all. */
export class TaskCountsResponse implements TaskCounts {
  @ApiProperty({ type: 'integer', minimum: 0, example: 42 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 5 })
  pending!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 2 })
  in_progress!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 30 })
  completed!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 3 })
  failed!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 2 })
  cancelled!: number;
}

/** The whole picture, read from the database, so every replica gives the same answer (uptime aside). */
export class StatusResponse {
  @ApiProperty({ type: SystemStatusResponse })
  system!: SystemStatusResponse;

  @ApiProperty({ type: AgentSummaryResponse })
  agents!: AgentSummaryResponse;

  @ApiProperty({ type: TaskCountsResponse })
  tasks!: TaskCountsResponse;
}

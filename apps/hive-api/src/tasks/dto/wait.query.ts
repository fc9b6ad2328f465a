import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** `?wait=<seconds>`: answer once the task (every task) has ended, or with its state when the time is up. */
export class WaitQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 3600,
    description:
      'Seconds to wait for the task (every task of a batch) to end before answering: the answer comes as soon as ' +
      'it has (completed, failed or cancelled), or with its current state when the time is up — 200 either way, ' +
      'the body says the status. At most TASK_WAIT_MAX_S (default 60)',
    example: 30,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'wait must be a whole number of seconds' })
  @Min(0)
  @Max(3600)
  wait?: number;
}

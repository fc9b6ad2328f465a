import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

export class DeleteAgentQuery {
  /** Requeue the agent's running tasks instead of refusing. */
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'Remove it even while it runs tasks: they go back to the queue (the interrupted attempt is not counted)',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'force must be true or false' })
  force: boolean = false;
}

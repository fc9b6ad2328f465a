import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, ValidateNested } from 'class-validator';
import { CreateTaskDto } from './create-task.dto.js';

/** Tasks per batch: large enough to amortise a request, small enough for one short INSERT. */
export const MAX_BATCH_TASKS = 1000;

@ApiSchema({ name: 'CreateTaskBatchRequest' })
export class CreateTaskBatchDto {
  @ApiProperty({
    type: [CreateTaskDto],
    minItems: 1,
    maxItems: MAX_BATCH_TASKS,
    description: `1–${MAX_BATCH_TASKS} tasks, each as for POST /api/tasks; the whole body is also bounded by BODY_LIMIT`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_TASKS)
  // ValidateNested alone would look inside a list given in place of a task instead of refusing it.
  @IsObject({ each: true, message: 'tasks: every task must be a JSON object' })
  @ValidateNested({ each: true })
  @Type(() => CreateTaskDto)
  tasks!: CreateTaskDto[];
}

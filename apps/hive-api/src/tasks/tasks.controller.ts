import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TaskService } from '@hive/coordinator';
import { CreateTaskDto } from './dto/create-task.dto.js';
import { CreateTaskBatchDto, MAX_BATCH_TASKS } from './dto/create-task-batch.dto.js';
import { ListTasksQuery } from './dto/list-tasks.query.js';
import { TaskIdParams } from './dto/task-id.params.js';
import { toSubmission } from './task-submission.js';
import { CreatedTaskBatchResponse, CreatedTaskResponse, TaskListResponse, TaskResponse } from './dto/task.response.js';
import { RequireRole } from '../auth/roles.js';
import { ApiErrors, type RouteError } from '../openapi/api-errors.decorator.js';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';

const NOT_A_UUID: RouteError = { status: 400, description: 'The id is not a UUID', message: ['id must be a UUID'] };
const NO_SUCH_TASK: RouteError = {
  status: 404,
  description: 'No task has this id',
  message: 'Task 6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f does not exist',
};

@ApiTags('tasks')
@ApiKeyAuth()
@Controller('api/tasks')
export class TasksController {
  constructor(private readonly tasks: TaskService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ operationId: 'submitTask', summary: 'Submit a task', description: 'Needs the operator role.' })
  @ApiCreatedResponse({ type: CreatedTaskResponse, description: 'Queued (status pending)' })
  @ApiErrors(
    {
      status: 400,
      description:
        'Invalid input (each problem names its field), or no registered agent can run the task (the message lists ' +
        'the served types and models)',
    },
    403,
    413,
  )
  submit(@Body() dto: CreateTaskDto): Promise<CreatedTaskResponse> {
    return this.tasks.submit(toSubmission(dto));
  }

  @Post('batch')
  @RequireRole('operator')
  @ApiOperation({
    operationId: 'submitTaskBatch',
    summary: 'Submit several tasks in one request',
    description:
      `Needs the operator role. 1–${MAX_BATCH_TASKS} tasks, stored in one transaction: all or none. Tasks of equal ` +
      'priority run in the order given. Counts as one request against the rate limit.',
  })
  @ApiCreatedResponse({
    type: CreatedTaskBatchResponse,
    description: 'All queued (status pending), in the order given',
  })
  @ApiErrors(
    {
      status: 400,
      description:
        'Invalid input (fields named by position, e.g. tasks.2.priority), or a task no registered agent can run',
      message: ['tasks.2.priority must not be greater than 5'],
    },
    403,
    413,
  )
  async submitBatch(@Body() dto: CreateTaskBatchDto): Promise<CreatedTaskBatchResponse> {
    return { tasks: await this.tasks.submitMany(dto.tasks.map(toSubmission)) };
  }

  @Get()
  @ApiOperation({ operationId: 'listTasks', summary: 'List tasks, newest first' })
  @ApiOkResponse({ type: TaskListResponse, description: 'A page of tasks and the counts' })
  @ApiErrors(400)
  list(@Query() query: ListTasksQuery): Promise<TaskListResponse> {
    return this.tasks.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getTask', summary: 'Read one task: status, result, attempts and timings' })
  @ApiOkResponse({ type: TaskResponse, description: 'The task' })
  @ApiErrors(NOT_A_UUID, NO_SUCH_TASK)
  get(@Param() { id }: TaskIdParams): Promise<TaskResponse> {
    return this.tasks.get(id);
  }

  @Post(':id/cancel')
  @RequireRole('operator')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelTask',
    summary: 'Cancel a task',
    description: "Needs the operator role. A running task's agent call is aborted on whichever replica runs it.",
  })
  @ApiOkResponse({ type: TaskResponse, description: 'The cancelled task' })
  @ApiErrors(NOT_A_UUID, 403, NO_SUCH_TASK, {
    status: 409,
    description: 'The task has already finished',
    message: 'Task 6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f is already completed and cannot be cancelled',
  })
  cancel(@Param() { id }: TaskIdParams): Promise<TaskResponse> {
    return this.tasks.cancel(id);
  }
}

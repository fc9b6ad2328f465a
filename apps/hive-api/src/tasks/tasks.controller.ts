import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { TaskService, type TaskSubmission } from '@hive/coordinator';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { RequireRole } from '../auth/roles.js';
import { ApiErrors, type RouteError } from '../openapi/api-errors.decorator.js';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';
import { CallbackPolicy } from './callback-policy.js';
import { CreateTaskDto } from './dto/create-task.dto.js';
import { CreateTaskBatchDto, MAX_BATCH_TASKS } from './dto/create-task-batch.dto.js';
import { ListTasksQuery } from './dto/list-tasks.query.js';
import { TaskIdParams } from './dto/task-id.params.js';
import {
  CreatedTaskBatchResponse,
  CreatedTaskResponse,
  TaskBatchResponse,
  TaskListResponse,
  TaskResponse,
} from './dto/task.response.js';
import { WaitQuery } from './dto/wait.query.js';
import { IDEMPOTENCY_HEADER, REPLAYED_HEADER, TaskDeliveryOptions } from './task-delivery-options.js';
import { toSubmission } from './task-submission.js';

const NOT_A_UUID: RouteError = { status: 400, description: 'The id is not a UUID', message: ['id must be a UUID'] };
const NO_SUCH_TASK: RouteError = {
  status: 404,
  description: 'No task has this id',
  message: 'Task 6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f does not exist',
};
const IDEMPOTENCY_KEY_DOC = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Up to 255 printable characters. The same key with the same body within IDEMPOTENCY_TTL_HOURS (default 24) ' +
    'answers the task(s) the first request stored, with 200 and `idempotent-replayed: true`, never a second ' +
    'task, whichever replica it reaches; with a different body, 422. Keys are scoped per API key',
};
const SUBMIT_OK =
  'With ?wait: the task(s) as GET shows them, once ended or when the time is up. When an Idempotency-Key replays an ' +
  'earlier request (header `idempotent-replayed: true`): the task(s) that request stored, as GET shows them now';

@ApiTags('tasks')
@ApiKeyAuth()
@Controller('api/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TaskService,
    private readonly callbacks: CallbackPolicy,
    private readonly delivery: TaskDeliveryOptions,
  ) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ operationId: 'submitTask', summary: 'Submit a task', description: 'Needs the operator role.' })
  @ApiHeader(IDEMPOTENCY_KEY_DOC)
  @ApiCreatedResponse({ type: CreatedTaskResponse, description: 'Queued (status pending)' })
  @ApiOkResponse({ type: TaskResponse, description: SUBMIT_OK })
  @ApiErrors(
    {
      status: 400,
      description:
        'Invalid input (each problem names its field), or no registered agent can run the task (the message lists ' +
        'the served types and models)',
    },
    403,
    413,
    422,
  )
  async submit(
    @Body() dto: CreateTaskDto,
    @Query() query: WaitQuery,
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Req() req: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (dto.callback_url !== undefined) this.callbacks.check(dto.callback_url, 'callback_url');
    const { tasks, replayed, waited } = await this.store([toSubmission(dto)], dto, query, idempotencyKey, req, 'one');
    if (replayed) void reply.header(REPLAYED_HEADER, 'true');
    await reply.status(waited || replayed ? 200 : 201).send(tasks[0]);
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
  @ApiHeader(IDEMPOTENCY_KEY_DOC)
  @ApiCreatedResponse({
    type: CreatedTaskBatchResponse,
    description: 'All queued (status pending), in the order given',
  })
  @ApiOkResponse({ type: TaskBatchResponse, description: SUBMIT_OK })
  @ApiErrors(
    {
      status: 400,
      description:
        'Invalid input (fields named by position, e.g. tasks.2.priority), or a task no registered agent can run',
      message: ['tasks.2.priority must not be greater than 5'],
    },
    403,
    413,
    422,
  )
  async submitBatch(
    @Body() dto: CreateTaskBatchDto,
    @Query() query: WaitQuery,
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Req() req: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    dto.tasks.forEach((task, i) => {
      if (task.callback_url !== undefined) this.callbacks.check(task.callback_url, `tasks.${i}.callback_url`);
    });
    const { tasks, replayed, waited } = await this.store(
      dto.tasks.map(toSubmission),
      dto,
      query,
      idempotencyKey,
      req,
      'batch',
    );
    if (replayed) void reply.header(REPLAYED_HEADER, 'true');
    await reply.status(waited || replayed ? 200 : 201).send({ tasks });
  }

  @Get()
  @ApiOperation({ operationId: 'listTasks', summary: 'List tasks, newest first' })
  @ApiOkResponse({ type: TaskListResponse, description: 'A page of tasks and the counts' })
  @ApiErrors(400)
  list(@Query() query: ListTasksQuery): Promise<TaskListResponse> {
    return this.tasks.list(query);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getTask',
    summary: 'Read one task: status, result, attempts and timings',
    description: 'With ?wait, the answer comes once the task has ended, or with its state when the time is up.',
  })
  @ApiOkResponse({ type: TaskResponse, description: 'The task' })
  @ApiErrors(NOT_A_UUID, NO_SUCH_TASK)
  async get(@Param() { id }: TaskIdParams, @Query() query: WaitQuery): Promise<TaskResponse> {
    const waitMs = this.delivery.waitMs(query);
    if (waitMs === undefined) return this.tasks.get(id);
    // No such task: get() answers the 404.
    return (await this.tasks.waitUntilEnded([id], waitMs))[0] ?? this.tasks.get(id);
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

  /**
   * Stores the submissions (once per Idempotency-Key, when given: `body`, as validated, is what the key stands for),
   * then waits for them when asked to.
   */
  private async store(
    submissions: TaskSubmission[],
    body: object,
    query: WaitQuery,
    idempotencyKey: string | undefined,
    req: AuthenticatedRequest,
    route: 'one' | 'batch',
  ): Promise<{ tasks: CreatedTaskResponse[] | TaskResponse[]; replayed: boolean; waited: boolean }> {
    const waitMs = this.delivery.waitMs(query);
    const key = this.delivery.idempotencyKey(idempotencyKey, req.principal, route, body);
    const stored =
      key !== undefined
        ? await this.tasks.submitOnce(key, submissions)
        : {
            tasks:
              route === 'one' ? [await this.tasks.submit(submissions[0])] : await this.tasks.submitMany(submissions),
            replayed: false,
          };
    if (waitMs === undefined) return { ...stored, waited: false };
    const ended = await this.tasks.waitUntilEnded(
      stored.tasks.map((t) => t.id),
      waitMs,
    );
    return { tasks: ended, replayed: stored.replayed, waited: true };
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { TaskService, type TaskView } from '@hive/coordinator';
import { CreateTaskDto } from './dto/create-task.dto.js';
import { ListTasksQuery } from './dto/list-tasks.query.js';
import { TaskIdParams } from './dto/task-id.params.js';
import { RequireRole } from '../auth/roles.js';

type CreatedTask = Pick<TaskView, 'id' | 'type' | 'priority' | 'status' | 'context' | 'created_at'>;

@Controller('api/tasks')
export class TasksController {
  constructor(private readonly tasks: TaskService) {}

  @Post()
  @RequireRole('operator')
  async submit(@Body() dto: CreateTaskDto): Promise<CreatedTask> {
    const { id, type, priority, status, context, created_at } = await this.tasks.submit(dto);
    return { id, type, priority, status, context, created_at };
  }

  @Get()
  list(@Query() query: ListTasksQuery): Promise<{ tasks: TaskView[]; total: number; filtered: number }> {
    return this.tasks.list(query);
  }

  @Get(':id')
  get(@Param() { id }: TaskIdParams): Promise<TaskView> {
    return this.tasks.get(id);
  }

  @Post(':id/cancel')
  @RequireRole('operator')
  @HttpCode(200)
  cancel(@Param() { id }: TaskIdParams): Promise<TaskView> {
    return this.tasks.cancel(id);
  }
}

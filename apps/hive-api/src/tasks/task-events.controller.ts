import { BadRequestException, Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { TaskEvents } from '@hive/coordinator';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { ApiKeyAuth } from '../openapi/api-key-auth.decorator.js';
import { TaskIdParams } from './dto/task-id.params.js';
import { LiveStreams } from './live/live-streams.js';
import { SseWriter } from './live/sse-writer.js';

const EVENT_STREAM_DOC = `Server-sent events (text/event-stream), each with an increasing \`id\`:
- \`status\`: a change of state — \`data\` is \`{"seq", "status", "at", …}\` with \`agent\` and \`attempt\` (in_progress,
  and on an attempt's end), \`error\` and \`retry_at\` (retrying: the attempt failed and the task goes back to the
  queue), \`error\` (failed), \`result\` (completed), \`reason\` (pending again, untouched: its replica stopped or its
  agent was removed). The first event of a new task is \`pending\`.
- \`token\`: a piece of the answer as the agent produces it (\`{"content": "…"}\` or \`{"tool_calls": […]}\`), for
  tasks submitted with \`stream: true\`, from whichever replica runs the task.
- \`dropped\`: this reader fell too far behind and is disconnected (reconnect with Last-Event-ID).
A comment line (\`: keep-alive\`) comes every 15 s. The stream ends after the final status event (completed, failed,
cancelled); a finished task answers its events at once and ends. Reconnecting with \`Last-Event-ID\` gives the status
events after it, then the live stream; pieces already produced are not sent again (the completed event carries the
whole answer). A reader going away does not cancel the task.`;

/** Last-Event-ID: an id this endpoint gave (a whole number); absent means from the start. */
function afterId(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const id = Number(header.trim());
  if (!/^\d{1,16}$/.test(header.trim()) || !Number.isSafeInteger(id)) {
    throw new BadRequestException(['Last-Event-ID must be an event id this stream sent (a whole number)']);
  }
  return id;
}

@ApiTags('tasks')
@ApiKeyAuth()
@Controller('api/tasks')
export class TaskEventsController {
  constructor(
    private readonly events: TaskEvents,
    private readonly streams: LiveStreams,
  ) {}

  @Get(':id/events')
  @ApiOperation({ operationId: 'followTask', summary: "Follow a task's status and streamed answer live" })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  @ApiOkResponse({
    description: EVENT_STREAM_DOC,
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(
    {
      status: 400,
      description: 'The id is not a UUID, or Last-Event-ID is not an event id',
      message: ['id must be a UUID'],
    },
    {
      status: 404,
      description: 'No task has this id',
      message: 'Task 6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f does not exist',
    },
  )
  async follow(
    @Param() { id }: TaskIdParams,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = afterId(lastEventId);
    const writer = new SseWriter(reply.raw);
    // Before anything is written: an unknown task is a 404 in Hive's error shape.
    const stop = await this.events.follow(id, after, writer);
    writer.onClose(stop);
    reply.hijack();
    writer.open(reply.getHeaders());
    this.streams.add(writer);
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, TaskStore } from '@hive/database';
import { TaskFeed } from '../delivery/task-feed.service.js';
import { TaskWaiting } from '../delivery/task-waiting.service.js';
import { RunningCalls } from '../dispatch/running-calls.js';
import { TaskFinishedError } from '../errors/coordinator-errors.js';
import { outsideRequests } from '../outside-requests.js';
import { TaskService } from '../tasks/task.service.js';
import type { GatewayCallEnd, GatewayCallObserver, GatewayCallRequest } from './gateway-call.types.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { LocalCalls } from './local-calls.js';
import { OpenCall } from './open-call.js';

/** How long a call kept as metadata only may take to be written as ended before its content is forgotten anyway. */
const FORGET_WAIT_MS = 30_000;

/**
 * Runs the calls of LLM clients as tasks (docs/architecture.md, "The gateway"): stored, queued and placed like any
 * task, followed until they end. The client hears its agent's answer from this replica's runner directly when the
 * task runs here, else through the task feed from whichever replica runs it. A call still pending after its queue
 * timeout is cancelled and refused; a client that leaves cancels its task, which aborts the agent call wherever it
 * runs. A stopping replica ends its calls but those its own runner runs, which get the dispatcher's grace: each
 * ended call's task is cancelled, and its client may try again on another replica.
 */
@Injectable()
export class GatewayCalls implements OnModuleDestroy {
  private readonly logger = new Logger('Gateway');
  private readonly detached = outsideRequests();
  private readonly open = new Set<OpenCall>();
  private stoppingNow = false;

  constructor(
    private readonly tasks: TaskService,
    private readonly store: TaskStore,
    private readonly feed: TaskFeed,
    private readonly local: LocalCalls,
    private readonly running: RunningCalls,
    private readonly waiting: TaskWaiting,
    private readonly metrics: GatewayMetrics,
    private readonly config: HiveConfig,
  ) {}

  /** The replica is stopping: new calls are refused (and go to another replica). */
  get stopping(): boolean {
    return this.stoppingNow;
  }

  /**
   * Stops at SIGTERM, with the dispatcher: calls pending or running elsewhere end now; those running here end with
   * their answer, or when the dispatcher hands their task back.
   */
  onModuleDestroy(): void {
    this.stoppingNow = true;
    for (const call of this.open) if (!this.running.has(call.taskId)) void this.stopCall(call);
  }

  /**
   * Stores the call as a task and resolves once it ended for its client. Throws, storing nothing, when no agent
   * serves its model (UnservedTasksError). `clientGone` aborts when the client disconnected.
   */
  async run(
    request: GatewayCallRequest,
    observer: GatewayCallObserver,
    clientGone: AbortSignal,
  ): Promise<GatewayCallEnd> {
    const submittedAt = performance.now();
    const retain = this.config.gateway.retain;
    const id = randomUUID();
    const call = new OpenCall(id, submittedAt, observer, {
      started: (start) => this.metrics.queued(request.dialect, start.queueMs / 1000),
      interrupted: () => void this.cancelTask(id, 'broke off mid-answer'),
    });
    // Watched before it is stored: the transaction that stores it may start it too. While an attempt runs here,
    // its runner tells the call all the task's notices would: the feed reads the task again once it ended. (Not
    // RunningCalls.has: the attempt is still listed there when its end is told.)
    let runningHere = false;
    const stops = [
      this.local.watch(id, {
        started: (agentId, seq) => {
          runningHere = true;
          call.began(agentId, seq);
        },
        answered: (result) => call.answered(result),
        released: () => void this.stopCall(call),
        ended: () => {
          runningHere = false;
          this.feed.reread(id);
        },
      }),
      this.feed.subscribe(id, {
        onTask: (task) => call.seen(task),
        onTokens: (pieces) => call.tokens(pieces),
        hearsOtherwise: () => runningHere,
      }),
    ];
    try {
      await this.tasks.submitToRun(
        {
          operation: request.operation,
          model: request.model,
          priority: request.priority,
          context: {},
          input: request.input as unknown as Record<string, unknown>,
          stream: request.stream,
          gateway: request.dialect,
          retain,
        },
        id,
      );
    } catch (error) {
      for (const stop of stops) stop();
      throw error;
    }
    const queueTimer = setTimeout(() => void this.leaveQueue(call), request.queueTimeoutMs);
    const onClientGone = () => void this.clientLeft(call);
    clientGone.addEventListener('abort', onClientGone, { once: true });
    if (clientGone.aborted) onClientGone();
    this.open.add(call);
    // Stored while the replica began to stop: no dispatcher here will run it (unless the storing claim started it).
    if (this.stoppingNow && !this.running.has(id)) void this.stopCall(call);
    try {
      return await call.ended;
    } finally {
      this.open.delete(call);
      clearTimeout(queueTimer);
      clientGone.removeEventListener('abort', onClientGone);
      for (const stop of stops) stop();
      if (retain === 'metadata') void this.detached(() => this.forget(id));
    }
  }

  /** Still in the queue after its timeout (or in it again, after a failed attempt): cancelled; else it goes on. */
  private async leaveQueue(call: OpenCall): Promise<void> {
    if (call.done) return;
    call.leavingQueue = true;
    try {
      if (await this.tasks.cancelPending(call.taskId)) call.end({ outcome: 'queue_timeout', taskId: call.taskId });
      else call.leavingQueue = false;
    } catch (error) {
      call.leavingQueue = false;
      this.logger.warn(
        { taskId: call.taskId, err: describeError(error) },
        `Gateway call ${call.taskId} is past its queue timeout but could not be cancelled: ${describeError(error)}`,
      );
    }
  }

  /** The client went away: its task is cancelled, which aborts the agent call wherever it runs. */
  private async clientLeft(call: OpenCall): Promise<void> {
    if (call.done) return;
    call.end({ outcome: 'client_closed', taskId: call.taskId });
    await this.cancelTask(call.taskId, 'lost its client');
  }

  /** This replica stops before the call could end: the client hears so, and nobody runs the task for nobody. */
  private async stopCall(call: OpenCall): Promise<void> {
    if (call.done) return;
    call.end({ outcome: 'replica_stopping', taskId: call.taskId, start: call.current });
    await this.cancelTask(call.taskId, 'was cut short by the replica stopping');
  }

  private async cancelTask(taskId: string, why: string): Promise<void> {
    try {
      await this.tasks.cancel(taskId);
    } catch (error) {
      if (error instanceof TaskFinishedError) return;
      this.logger.warn(
        { taskId, err: describeError(error) },
        `Gateway call ${taskId} ${why} but could not be cancelled: ${describeError(error)}`,
      );
    }
  }

  /** Once the task is written as ended, its content goes; the retention sweep catches what this misses. */
  private async forget(taskId: string): Promise<void> {
    try {
      await this.waiting.untilEnded([taskId], FORGET_WAIT_MS);
      await this.store.forgetContent([taskId]);
    } catch (error) {
      this.logger.warn(
        { taskId, err: describeError(error) },
        `The content of gateway call ${taskId} could not be forgotten yet: ${describeError(error)}`,
      );
    }
  }
}

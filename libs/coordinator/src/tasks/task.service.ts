import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import {
  describeError,
  QueueChannel,
  TaskStore,
  type NewTask,
  type SubmittedTask,
  type TaskCounts,
  type TaskFilter,
  type TaskPage,
  type TaskView,
} from '@hive/database';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import { AbortReason } from '../client/agent-call-error.js';
import { Dispatcher } from '../dispatch/dispatcher.service.js';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { RunningCalls } from '../dispatch/running-calls.js';
import { TaskFinishedError, TaskNotFoundError, UnservedTaskTypesError } from '../errors/coordinator-errors.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import { SubmissionWriter } from './submission-writer.js';

/** A task as a client submits it; `max_attempts` defaults to TASK_MAX_ATTEMPTS. */
export type TaskSubmission = Omit<NewTask, 'max_attempts'> & { max_attempts?: number };

/** Submitting, reading and cancelling tasks. Every read comes from the database, so all replicas agree. */
@Injectable()
export class TaskService {
  private readonly logger = new Logger('TaskService');

  constructor(
    private readonly store: TaskStore,
    private readonly submissions: SubmissionWriter,
    private readonly channel: QueueChannel,
    private readonly config: HiveConfig,
    private readonly agents: AgentRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly calls: RunningCalls,
    private readonly announcer: QueueAnnouncer,
    private readonly metrics: CoordinatorMetrics,
  ) {}

  /** Stores one task (committed before the answer), then wakes this replica's dispatcher and the others. */
  async submit(task: TaskSubmission): Promise<SubmittedTask> {
    const stored = await this.submissions.submit(this.withDefaults(task));
    if (stored === undefined) throw await this.unserved([task.type]);
    this.queued();
    return stored;
  }

  /**
   * Stores tasks in one statement, all or none: a type no registered agent serves refuses the whole lot. The answer
   * and the dispatch order among equal priorities follow the order given.
   */
  async submitMany(tasks: readonly TaskSubmission[]): Promise<SubmittedTask[]> {
    const stored = await this.store.submitBatch(tasks.map((t) => this.withDefaults(t)));
    if (stored.length === 0) throw await this.unserved(tasks.map((t) => t.type));
    this.queued();
    return stored;
  }

  async get(id: string): Promise<TaskView> {
    const task = await this.store.get(id);
    if (task === undefined) throw new TaskNotFoundError(id);
    return task;
  }

  /** Newest first; `total` counts every task, `filtered` those matching the filter. */
  list(filter: TaskFilter): Promise<TaskPage> {
    return this.store.list(filter);
  }

  /**
   * A pending task is cancelled at once. A running one is marked cancelled too, and every replica is told, so the
   * one running it aborts the agent call. A finished task cannot be cancelled.
   */
  async cancel(id: string): Promise<TaskView> {
    const cancelled = await this.store.cancel(id);
    if (cancelled === undefined) throw new TaskFinishedError(id, (await this.get(id)).status);
    const { task, was } = cancelled;
    if (was === 'in_progress') {
      // The cancel is committed whatever follows: the call stops here at once if this replica runs it; a replica
      // that misses the notice stops it when its next lease renewal finds the task no longer its own.
      this.calls.abort(id, new AbortReason('cancelled', 'cancelled by request'));
      await this.channel
        .notifyCancel([id])
        .catch((error: unknown) =>
          this.logger.warn(
            { taskId: id, err: describeError(error) },
            `Task ${id} is cancelled, but the other replicas could not be told: ${describeError(error)}`,
          ),
        );
    } else {
      this.metrics.taskFinished(task.type, 'cancelled');
    }
    return task;
  }

  counts(): Promise<TaskCounts> {
    return this.store.countsByState();
  }

  private withDefaults(task: TaskSubmission): NewTask {
    return { ...task, max_attempts: task.max_attempts ?? this.config.coordinator.taskMaxAttempts };
  }

  /** After an insert: this replica's dispatcher and the others are told. */
  private queued(): void {
    this.dispatcher.wake('task');
    this.announcer.announce('task');
  }

  /** Nothing was stored: name the types no agent serves (all given, if an agent was registered meanwhile). */
  private async unserved(types: readonly string[]): Promise<UnservedTaskTypesError> {
    const served = await this.agents.specialties();
    const given = [...new Set(types)];
    const missing = given.filter((type) => !served.includes(type));
    return new UnservedTaskTypesError(missing.length > 0 ? missing : given, served);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import {
  describeError,
  IdempotencyStore,
  routeModel,
  QueueChannel,
  TaskStore,
  type IdempotencyKey,
  type NewTask,
  type SubmittedTask,
  type TaskCounts,
  type TaskFilter,
  type TaskPage,
  type TaskView,
  type TaskWithEvents,
} from '@hive/database';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import { AbortReason } from '../client/agent-call-error.js';
import { Dispatcher } from '../dispatch/dispatcher.service.js';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { RunningCalls } from '../dispatch/running-calls.js';
import { TaskWaiting } from '../delivery/task-waiting.service.js';
import {
  IdempotencyConflictError,
  TaskFinishedError,
  TaskNotFoundError,
  UnservedTasksError,
  type RouteAsked,
} from '../errors/coordinator-errors.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import type { TaskResult } from '../operations/operation-types.js';
import { SubmissionWriter } from './submission-writer.js';

/**
 * A task as a client submits it: a type, a model or both; `operation` defaults to generate, `max_attempts` to
 * TASK_MAX_ATTEMPTS. Its input, if any, is already in Hive's shape (parseTaskInput).
 */
export type TaskSubmission = Omit<NewTask, 'max_attempts' | 'type' | 'model' | 'operation'> &
  Partial<Pick<NewTask, 'type' | 'model' | 'operation'>> & { max_attempts?: number };

/** A task as the API reports it, its result in Hive's shape (which the coordinator wrote). */
export type TaskDetails = Omit<TaskView, 'result'> & { result: TaskResult | null };
export type TaskDetailsPage = Omit<TaskPage, 'tasks'> & { tasks: TaskDetails[] };

const details = (task: TaskView): TaskDetails => task as Omit<TaskView, 'result'> as TaskDetails;

/** The task without its status history (which only live events show). */
function withoutEvents(task: TaskWithEvents): TaskDetails {
  const view: Partial<TaskWithEvents> = { ...task };
  delete view.events;
  return details(view as TaskView);
}

/**
 * A submission's answer: the tasks as stored; or, when an earlier request with its Idempotency-Key stored them, as
 * they are now (`replayed`).
 */
export type Submitted = { tasks: SubmittedTask[]; replayed: false } | { tasks: TaskDetails[]; replayed: true };

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
    private readonly idempotency: IdempotencyStore,
    private readonly waiting: TaskWaiting,
  ) {}

  /**
   * Stores one task (committed before the answer), then wakes this replica's dispatcher and the others. `id` is given
   * by a caller that follows the task before it is stored.
   */
  async submit(task: TaskSubmission, id?: string): Promise<SubmittedTask> {
    const stored = await this.submissions.submit(this.withDefaults(task), id);
    if (stored === undefined) throw await this.unserved([task]);
    this.queued();
    return stored;
  }

  /**
   * Stores one task whose client waits for it to run (a gateway call), under the id given (the caller follows it
   * before it is stored): in a claim of this replica's dispatcher that may start it at once
   * (Dispatcher.submitAndClaim); as `submit` does when the dispatcher cannot take it.
   */
  async submitToRun(task: TaskSubmission, id: string): Promise<void> {
    const stored = await this.dispatcher.submitAndClaim(this.withDefaults(task), id);
    if (stored === undefined) await this.submit(task, id);
    else if (!stored) throw await this.unserved([task]);
    // Left pending by its claim, it waits for capacity, which every replica is woken for when it frees up.
  }

  /**
   * Stores tasks in one statement, all or none: a task no registered agent can run refuses the whole lot. The answer
   * and the dispatch order among equal priorities follow the order given.
   */
  async submitMany(tasks: readonly TaskSubmission[]): Promise<SubmittedTask[]> {
    const stored = await this.store.submitBatch(tasks.map((t) => this.withDefaults(t)));
    if (stored.length === 0) throw await this.unserved(tasks);
    this.queued();
    return stored;
  }

  /**
   * Stores tasks under an Idempotency-Key, all or none: the first request with the key stores them; a later one with
   * the same request (`key.requestHash`) gets the same tasks back as they are now, whichever replica it reaches; a
   * later one with another request is refused.
   */
  async submitOnce(key: IdempotencyKey, tasks: readonly TaskSubmission[]): Promise<Submitted> {
    const outcome = await this.idempotency.submitOnce(
      key,
      tasks.map((t) => this.withDefaults(t)),
    );
    switch (outcome.outcome) {
      case 'created':
        this.queued();
        return { tasks: outcome.tasks, replayed: false };
      case 'replayed': {
        // As they are now (their status may have moved on since), in the order the first request gave them.
        const found = new Map((await this.store.withEvents(outcome.taskIds)).map((t) => [t.id, withoutEvents(t)]));
        return { tasks: outcome.taskIds.flatMap((id) => found.get(id) ?? []), replayed: true };
      }
      case 'conflict':
        throw new IdempotencyConflictError();
      case 'unserved':
        throw await this.unserved(tasks);
    }
  }

  /**
   * The tasks once all have ended, or as they are after `waitMs` (each task that exists among `ids`, in that order).
   * The wait is woken by the tasks' last change, from whichever replica made it.
   */
  async waitUntilEnded(ids: readonly string[], waitMs: number): Promise<TaskDetails[]> {
    return (await this.waiting.untilEnded(ids, waitMs)).map(withoutEvents);
  }

  async get(id: string): Promise<TaskDetails> {
    const task = await this.store.get(id);
    if (task === undefined) throw new TaskNotFoundError(id);
    return details(task);
  }

  /** Newest first; `total` counts every task, `filtered` those matching the filter. */
  async list(filter: TaskFilter): Promise<TaskDetailsPage> {
    const page = await this.store.list(filter);
    return { ...page, tasks: page.tasks.map(details) };
  }

  /**
   * A pending task is cancelled at once. A running one is marked cancelled too, and every replica is told, so the
   * one running it aborts the agent call. A finished task cannot be cancelled.
   */
  async cancel(id: string): Promise<TaskDetails> {
    const cancelled = await this.store.cancel(id);
    if (cancelled === undefined) throw new TaskFinishedError(id, (await this.get(id)).status);
    const { type, was } = cancelled;
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
      this.metrics.taskFinished(type, 'cancelled');
    }
    return this.get(id);
  }

  /** A task still pending is cancelled (a gateway call that waited too long); false once an attempt began. */
  async cancelPending(id: string): Promise<boolean> {
    const cancelled = await this.store.cancelPending(id);
    if (cancelled) this.metrics.taskFinished(null, 'cancelled');
    return cancelled;
  }

  counts(): Promise<TaskCounts> {
    return this.store.countsByState();
  }

  private withDefaults(task: TaskSubmission): NewTask {
    return {
      ...task,
      type: task.type ?? '',
      model: task.model ?? '',
      operation: task.operation ?? 'generate',
      max_attempts: task.max_attempts ?? this.config.coordinator.taskMaxAttempts,
    };
  }

  /** After an insert: this replica's dispatcher and the others are told. */
  private queued(): void {
    this.dispatcher.wake('task');
    this.announcer.announce('task');
  }

  /**
   * Nothing was stored: name what no agent can run (all given, if an agent was registered meanwhile), with what the
   * agents serve. Each route is judged against each agent, as the database did: a type served by one agent and a
   * model served by another do not make a task of that type and model servable.
   */
  private async unserved(tasks: readonly TaskSubmission[]): Promise<UnservedTasksError> {
    const agents = await this.agents.list();
    const sortedOnce = (names: Iterable<string>) => [...new Set(names)].sort();
    const served = {
      specialties: sortedOnce(agents.map((a) => a.specialty)),
      models: sortedOnce(agents.flatMap((a) => a.models)),
    };
    const routes = new Map<string, RouteAsked>();
    for (const { type = '', model = '' } of tasks) routes.set(`${type}\u0000${model}`, { type, model });
    const given = [...routes.values()];
    const missing = given.filter((route) => !agents.some((agent) => routeModel(agent, route) !== undefined));
    return new UnservedTasksError(missing.length > 0 ? missing : given, served);
  }
}

import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { describeError } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { CoordinatorMetrics } from '../coordinator.metrics.js';
import { AbortReason } from '../client/agent-call-error.js';
import { claimTasks, type Claim, type ClaimedTask } from './claim-tasks.js';
import { QueueAnnouncer } from './queue-announcer.js';
import { QueueListener, type WakeReason } from './queue-listener.js';
import { TaskOutcomes } from './task-outcomes.js';
import { reapExpiredLeases } from './lease-reaper.js';
import { TaskRunner } from './task-runner.js';

/** Claims per transaction: enough to fill many agents at once, small enough to keep the locks short. */
const CLAIM_BATCH = 64;
const CLAIM_ERROR_PAUSE_MS = 1_000;

interface RunningTask {
  readonly taskId: string;
  readonly agentId: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * The dispatcher loop of one replica: wakes on NOTIFY (or the slow poll), claims what the agents have room for,
 * runs each claimed task, keeps their leases alive, requeues the expired leases of dead replicas, and drains on
 * shutdown.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Dispatcher');
  /**
   * The agent calls in flight. Not keyed by task id: a task requeued by a force-deleted agent can be claimed again
   * here (on another agent) while its first call is still being aborted.
   */
  private readonly running = new Set<RunningTask>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly outcomes: TaskOutcomes;
  private listener: QueueListener | undefined;
  /** Wake-ups that arrived since the last pass began, by reason. */
  private readonly wakes = { task: false, capacity: false };
  /**
   * The last pass left no agent slot free (over all replicas). New tasks alone cannot change that; whatever frees a
   * slot or adds one wakes this replica for capacity: its own task ending or its retry coming due, an agent change,
   * a cancel, a requeue, the poll. A slot freed by another replica is refilled by that replica's own pass, or
   * announced to all when that replica is shutting down.
   */
  private agentsFull = false;
  private looping = false;
  /** When running tasks must be handed back: SHUTDOWN_GRACE_MS after shutdown began. */
  private drainDeadline = 0;
  private drained = false;

  constructor(
    private readonly db: DataSource,
    private readonly config: HiveConfig,
    private readonly state: CoordinatorState,
    private readonly runner: TaskRunner,
    private readonly metrics: CoordinatorMetrics,
    private readonly announcer: QueueAnnouncer,
  ) {
    this.outcomes = new TaskOutcomes(db, state.replicaId);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { url } = this.db.options as { url?: string };
    this.listener = new QueueListener(
      { connectionString: url, connectionTimeoutMillis: this.config.database.connectTimeoutMs },
      {
        onWake: (reason) => this.wake(reason),
        // With an agent: the agent was force-removed and the task requeued, which is not a cancellation.
        onCancel: (taskId, agentId) =>
          agentId === undefined
            ? this.abort(taskId, new AbortReason('cancelled', 'cancelled by request'))
            : this.abort(
                taskId,
                new AbortReason('lost', `agent ${agentId} was removed; the task went back to the queue`),
                agentId,
              ),
      },
    );
    await this.listener.start();
    this.state.phase = 'running';
    const { queuePollMs, taskLeaseMs } = this.config.coordinator;
    this.every(queuePollMs, () => this.wake());
    this.every(Math.max(250, Math.floor(taskLeaseMs / 3)), () => this.renewLeases());
    this.every(Math.max(500, Math.floor(taskLeaseMs / 2)), () => this.reapLeases());
    // The first pass completes before the app listens, so readiness is true from the first request on.
    this.wakes.capacity = true;
    if (!this.looping) await this.loop();
    this.logger.log(`Coordinator ${this.state.replicaId} is dispatching`);
  }

  /** Asks for a claim pass; passes never overlap, and wake-ups during one cause one more. */
  wake(reason: WakeReason = 'capacity'): void {
    this.wakes[reason] = true;
    if (!this.looping && this.state.phase === 'running' && this.passWanted()) void this.loop();
  }

  /**
   * Aborts a task's calls on this replica (cancel from any replica arrives here through NOTIFY); only its call on
   * `agentId` when given, so a requeued task already running again elsewhere is left alone.
   */
  abort(taskId: string, reason: AbortReason, agentId?: string): void {
    for (const task of this.running) {
      if (task.taskId === taskId && (agentId === undefined || task.agentId === agentId)) task.controller.abort(reason);
    }
  }

  /**
   * Stop claiming at once: this is the first hook Nest runs on SIGTERM, before any module's
   * beforeApplicationShutdown (Terminus waits out its readiness grace there, and tasks claimed meanwhile would
   * start after the signal).
   */
  onModuleDestroy(): void {
    if (this.state.phase !== 'running') return;
    this.state.phase = 'draining';
    this.drainDeadline = Date.now() + this.config.shutdownGraceMs;
  }

  /**
   * In-flight tasks may finish until SHUTDOWN_GRACE_MS after shutdown began (the readiness grace Terminus waits out
   * is part of it, not added to it); the rest go back to the queue untouched.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.drained || this.state.phase === 'starting') return;
    this.drained = true;
    if (this.state.phase === 'running') this.onModuleDestroy();
    const budget = Math.max(0, this.drainDeadline - Date.now());
    const inFlight = this.running.size;
    if (inFlight > 0) this.logger.log(`Draining ${inFlight} running task(s) for up to ${budget} ms`);
    const allDone = () => Promise.all([...this.running].map((t) => t.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, budget)));
    await Promise.race([allDone(), grace]);
    clearTimeout(graceTimer);
    const left = this.running.size;
    for (const task of this.running) {
      task.controller.abort(new AbortReason('shutdown', 'replica shutting down'));
    }
    await allDone();
    await this.announcer.settled();
    if (left > 0) this.logger.log(`Released ${left} unfinished task(s) back to the queue`);
    for (const timer of this.timers) clearInterval(timer);
    await this.listener?.stop();
    this.state.phase = 'stopped';
  }

  private every(ms: number, work: () => void | Promise<void>): void {
    const timer = setInterval(() => void work(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private passWanted(): boolean {
    return this.wakes.capacity || (this.wakes.task && !this.agentsFull);
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.passWanted() && this.state.phase === 'running') {
        this.wakes.task = this.wakes.capacity = false;
        let claim: Claim;
        do {
          claim = await this.db.transaction((m) =>
            claimTasks(m, this.state.replicaId, this.config.coordinator.taskLeaseMs, CLAIM_BATCH),
          );
          for (const task of claim.tasks) this.start(task);
          this.agentsFull = claim.tasks.length >= claim.freeSlots;
        } while (claim.tasks.length === CLAIM_BATCH && this.state.phase === 'running');
        this.state.lastTick = new Date();
      }
    } catch (error) {
      this.logger.warn(`Claiming tasks failed: ${describeError(error)}; trying again in ${CLAIM_ERROR_PAUSE_MS} ms`);
      setTimeout(() => this.wake(), CLAIM_ERROR_PAUSE_MS).unref();
    } finally {
      this.looping = false;
    }
  }

  private start(task: ClaimedTask): void {
    const controller = new AbortController();
    this.metrics.taskClaimed(task.type, task.available_at > task.created_at ? task.available_at : task.created_at);
    const entry: RunningTask = {
      taskId: task.id,
      agentId: task.agent.id,
      controller,
      // A retry coming due wakes for capacity: the slot it needs may have been freed by another replica meanwhile.
      done: this.runner
        .run(task, controller, this.outcomes, (delayMs) => setTimeout(() => this.wake(), delayMs).unref())
        .catch((error: unknown) => this.logger.error(`Task ${task.id} could not be recorded: ${describeError(error)}`))
        .finally(() => {
          this.running.delete(entry);
          this.state.runningTasks = this.running.size;
          if (this.state.phase === 'running') this.wake();
          else this.announcer.announce('capacity'); // draining: the other replicas must refill the slot
        }),
    };
    this.running.add(entry);
    this.state.runningTasks = this.running.size;
  }

  /** Keeps this replica's leases alive; a task whose lease is gone (cancelled or reaped) is aborted here. */
  private async renewLeases(): Promise<void> {
    // Only calls started before the renewal began: a claim committed after its snapshot would look lost.
    const before = [...this.running];
    if (before.length === 0) return;
    try {
      const held = await this.outcomes.renewLeases(
        before.map((t) => t.taskId),
        this.config.coordinator.taskLeaseMs,
      );
      for (const task of before) {
        if (!held.has(task.taskId))
          task.controller.abort(new AbortReason('lost', 'the task is no longer held by this replica'));
      }
    } catch (error) {
      this.logger.warn(`Renewing task leases failed: ${describeError(error)}`);
    }
  }

  private async reapLeases(): Promise<void> {
    try {
      const reaped = await reapExpiredLeases(this.db);
      if (reaped.length === 0) return;
      this.metrics.leasesExpired(reaped.length);
      for (const task of reaped.filter((t) => t.status === 'failed')) this.metrics.taskFinished(task.type, 'failed');
      this.logger.warn(`Requeued ${reaped.length} task(s) whose lease expired`);
      this.wake();
    } catch (error) {
      this.logger.warn(`Reaping expired leases failed: ${describeError(error)}`);
    }
  }
}

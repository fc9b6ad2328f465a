import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import {
  describeError,
  isRowFault,
  QueueChannel,
  settlesWithin,
  TaskStore,
  type CancelNotice,
  type Claim,
  type ClaimedTask,
  type ClaimPlanner,
  type NewTask,
  type QueueListener,
  type WakeReason,
} from '@hive/database';
import { AbortReason } from '../client/agent-call-error.js';
import { CoordinatorState } from '../coordinator-state.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import { outsideRequests } from '../outside-requests.js';
import { LeaseKeeper } from './lease-keeper.js';
import { planClaim } from './placement.js';
import { QueueAnnouncer } from './queue-announcer.js';
import { RunningCalls, type RunningCall } from './running-calls.js';
import { TaskRunner } from './task-runner.js';

/** Claims per transaction: enough to fill many agents at once, small enough to keep the locks short. */
const CLAIM_BATCH = 64;
/** After a failed claim, no pass for this long, whatever wakes the dispatcher: a broken database must not spin it. */
const CLAIM_ERROR_PAUSE_MS = 1_000;
/**
 * How long shutdown waits on the database at each step: the claim under way, then the aborted calls handing their
 * tasks back. A database that does not answer must not hold the exit: a task left running by then is requeued by
 * another replica's reaper once its lease expires.
 */
const DATABASE_WAIT_MS = 5_000;

/** A task to store with its id. */
interface Submission {
  task: NewTask;
  id: string;
}

/** A task a client waits for, to be stored by a claim. */
interface WaitingCall {
  submission: Submission;
  /** Whether the claim stored it; undefined when it is to be stored the usual way. */
  settle(stored: boolean | undefined): void;
}

/**
 * The dispatcher loop of one replica (docs/architecture.md, "How replicas cooperate"): wakes on NOTIFY (or the slow
 * poll), claims what the agents have room for, runs each claimed task, and drains on shutdown.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Dispatcher');
  private readonly timers: NodeJS.Timeout[] = [];
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
  /** The pass is only asking whether anything is due (a claim that stores a task may run meanwhile). */
  private probing = false;
  /** A claim that stores a task (submitAndClaim) is under way. */
  private storing = false;
  /** The pass under way, if any (shutdown waits for it, so that no task it claims starts unseen). */
  private pass: Promise<void> = Promise.resolve();
  /** The same for a claim that stores a task. */
  private storingPass: Promise<void> = Promise.resolve();
  /** Tasks clients wait for, not yet taken by a claim (one under way leaves them to the next pass). */
  private waiting: WaitingCall[] = [];
  /** No pass before then (a claim failed). */
  private pausedUntil = 0;
  /** When running tasks must be handed back: SHUTDOWN_GRACE_MS after shutdown began. */
  private drainDeadline = 0;
  private drained = false;
  private readonly detached = outsideRequests();

  constructor(
    private readonly store: TaskStore,
    private readonly channel: QueueChannel,
    private readonly config: HiveConfig,
    private readonly state: CoordinatorState,
    private readonly runner: TaskRunner,
    private readonly calls: RunningCalls,
    private readonly leases: LeaseKeeper,
    private readonly metrics: CoordinatorMetrics,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.listener = await this.channel.listen({
      onWake: (reason) => this.wake(reason),
      onCancel: (notice) => this.cancelled(notice),
    });
    this.state.phase = 'running';
    const poll = setInterval(() => this.wake(), this.config.coordinator.queuePollMs);
    poll.unref();
    this.timers.push(poll);
    this.leases.start();
    // The first pass completes before the app listens, so readiness is true from the first request on.
    this.wakes.capacity = true;
    if (!this.looping) await this.runPass();
    this.logger.log({ replicaId: this.state.replicaId }, `Coordinator ${this.state.replicaId} is dispatching`);
  }

  /**
   * Asks for a claim pass; passes never overlap (a claim that stores a task may start during a pass's probe, and the
   * pass's claim then waits for its locks), and wake-ups during one (or a pause) cause one more.
   */
  wake(reason: WakeReason = 'capacity'): void {
    this.wakes[reason] = true;
    this.passIfWanted();
  }

  private passIfWanted(): void {
    if (this.looping || this.storing) return;
    if (this.state.phase === 'running' && this.passWanted() && Date.now() >= this.pausedUntil) {
      void this.detached(() => this.runPass());
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
    // No pass will store them: they go the usual way (and their replica, stopping, ends them).
    for (const call of this.waiting.splice(0)) call.settle(undefined);
    this.calls.stopRetryingWritesAt(this.drainDeadline);
  }

  /**
   * In-flight tasks may finish until SHUTDOWN_GRACE_MS after shutdown began (the readiness grace Terminus waits out
   * is part of it, not added to it); the rest go back to the queue untouched.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.drained || this.state.phase === 'starting') return;
    this.drained = true;
    if (this.state.phase === 'running') this.onModuleDestroy();
    // A claim that was under way when shutdown began: its tasks start now, and drain like the others.
    if (!(await settlesWithin(Promise.all([this.pass, this.storingPass]), DATABASE_WAIT_MS))) {
      this.logger.warn(`The claim under way did not finish within ${DATABASE_WAIT_MS} ms; shutting down without it`);
    }
    const budget = Math.max(0, this.drainDeadline - Date.now());
    const inFlight = this.calls.size;
    if (inFlight > 0)
      this.logger.log({ tasks: inFlight }, `Draining ${inFlight} running task(s) for up to ${budget} ms`);
    const allDone = () => Promise.all(this.calls.all().map((c) => c.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, budget)));
    await Promise.race([allDone(), grace]);
    clearTimeout(graceTimer);
    const left = this.calls.size;
    for (const call of this.calls.all()) call.controller.abort(new AbortReason('shutdown', 'replica shutting down'));
    // The calls announce the capacity they free as they end: the NOTIFY is awaited once they all have.
    const handedBack = allDone().then(() => this.announcer.settled());
    if (!(await settlesWithin(handedBack, DATABASE_WAIT_MS))) {
      this.logger.warn(
        { tasks: this.calls.size },
        `${this.calls.size} task(s) could not be handed back within ${DATABASE_WAIT_MS} ms; the reaper will requeue them`,
      );
    } else if (left > 0) this.logger.log({ tasks: left }, `Released ${left} unfinished task(s) back to the queue`);
    for (const timer of this.timers) clearInterval(timer);
    this.leases.stop();
    await this.listener?.stop();
    this.state.phase = 'stopped';
  }

  /** A cancel heard from any replica: without an agent, a real cancellation; with one, that agent was removed. */
  private cancelled({ taskId, agentId }: CancelNotice): void {
    if (agentId === undefined) this.calls.abort(taskId, new AbortReason('cancelled', 'cancelled by request'));
    else {
      const reason = new AbortReason('lost', `agent ${agentId} was removed; the task went back to the queue`);
      this.calls.abort(taskId, reason, agentId);
    }
  }

  private runPass(): Promise<void> {
    this.pass = this.loop();
    return this.pass;
  }

  private passWanted(): boolean {
    return this.waiting.length > 0 || this.wakes.capacity || (this.wakes.task && !this.agentsFull);
  }

  /**
   * Stores a task a client waits for in a claim (TaskStore.submitAndClaim), which places it among the due tasks
   * and may start it at once: the client is spared the submission's own commit and the wake that starts a pass.
   * With no claim under way on this replica, the claim begins now (a pass that only asks whether anything is due
   * does not count: a claim it may go on to make waits for this one's locks); with one under way (under load), the
   * next pass stores the task with the others that came meanwhile. Resolves whether it was stored (not when no
   * registered agent can run it); undefined, storing nothing, when the replica is not dispatching, its claims are
   * paused or its agents full, or the claim failed: the caller submits it the usual way (where a value PostgreSQL
   * refuses fails only its own call). Any other failure pauses claiming, as a pass's does.
   */
  submitAndClaim(task: NewTask, id: string): Promise<boolean | undefined> {
    if (this.state.phase !== 'running' || this.agentsFull || Date.now() < this.pausedUntil) {
      return Promise.resolve(undefined);
    }
    const stored = new Promise<boolean | undefined>((settle) =>
      this.waiting.push({ submission: { task, id }, settle }),
    );
    if (!this.storing && !(this.looping && !this.probing)) this.storeNow();
    return stored;
  }

  /** A claim that stores the waiting tasks, begun now; it serves them all, so no request's id goes on its logs. */
  private storeNow(): void {
    this.storing = true;
    this.storingPass = this.detached(() => this.storeWaiting(this.waiting.splice(0, CLAIM_BATCH)))
      .catch((error: unknown) => this.pauseClaims(error))
      .finally(() => {
        this.storing = false;
        this.passIfWanted();
      });
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.passWanted() && this.state.phase === 'running') {
        const forTask = this.wakes.task;
        this.wakes.task = this.wakes.capacity = false;
        const calls = this.waiting.splice(0, CLAIM_BATCH);
        if (calls.length > 0) {
          await this.storeWaiting(calls);
          continue;
        }
        // Freed capacity (a call ended, a retry came due) wakes a pass most often with nothing queued: asked first
        // without locking the agents, so that such a pass costs one probe and holds up no claim for a new task.
        if (!forTask && !(await this.probe())) {
          this.agentsFull = false;
          this.state.lastTick = new Date();
          continue;
        }
        let claimed: number;
        do claimed = (await this.claimSome()).started;
        while (claimed === CLAIM_BATCH && this.state.phase === 'running');
      }
    } catch (error) {
      this.pauseClaims(error);
    } finally {
      this.looping = false;
    }
  }

  /** A claim failed: none for CLAIM_ERROR_PAUSE_MS, then a pass (whatever the failed one was for is still to do). */
  private pauseClaims(error: unknown): void {
    this.pausedUntil = Date.now() + CLAIM_ERROR_PAUSE_MS;
    this.wakes.capacity = true;
    this.logger.warn(
      { err: describeError(error), retryInMs: CLAIM_ERROR_PAUSE_MS },
      `Claiming tasks failed: ${describeError(error)}; trying again in ${CLAIM_ERROR_PAUSE_MS} ms`,
    );
    setTimeout(() => {
      this.pausedUntil = 0;
      this.wake();
    }, CLAIM_ERROR_PAUSE_MS).unref();
  }

  /**
   * Stores waiting calls in one claim. When it fails they go the usual way (where a value
   * PostgreSQL refuses fails only its own call); a failure that is not such a value pauses claiming, as any.
   */
  private async storeWaiting(calls: readonly WaitingCall[]): Promise<void> {
    let claimed: { claim: Claim; started: number };
    try {
      claimed = await this.claimSome(calls.map((call) => call.submission));
    } catch (error) {
      for (const call of calls) call.settle(undefined);
      if (isRowFault(error)) return;
      throw error;
    }
    const { claim, started } = claimed;
    calls.forEach((call, i) => call.settle(claim.stored?.[i] === true));
    if (started === CLAIM_BATCH) this.wakes.capacity = true;
  }

  /** Whether anything is due, asked without a lock. */
  private async probe(): Promise<boolean> {
    this.probing = true;
    try {
      return await this.store.anyDue();
    } finally {
      this.probing = false;
    }
  }

  /**
   * One claim transaction (storing `submissions` too, if given); starts what it claimed: the submissions it placed
   * as soon as they are, the others once it committed. Returns the claim and how many tasks it started.
   */
  private async claimSome(submissions?: readonly Submission[]): Promise<{ claim: Claim; started: number }> {
    const { taskLeaseMs, agentPlacement: strategy, taskWarmWaitMs: warmWaitMs } = this.config.coordinator;
    const planner: ClaimPlanner = (agents, load) => planClaim(agents, load, CLAIM_BATCH, { strategy, warmWaitMs });
    const claimedAt = Date.now();
    const { replicaId } = this.state;
    let begun = 0;
    const begin = (placed: ClaimedTask[], stored: Promise<boolean>) => {
      begun = placed.length;
      for (const task of placed) this.start(task, claimedAt + taskLeaseMs, stored);
    };
    const claim =
      submissions === undefined
        ? await this.store.claim(replicaId, taskLeaseMs, CLAIM_BATCH, planner)
        : await this.store.submitAndClaim(replicaId, taskLeaseMs, CLAIM_BATCH, planner, submissions, begin);
    for (const task of claim.tasks) this.start(task, claimedAt + taskLeaseMs);
    const started = claim.tasks.length + begun;
    this.agentsFull = started >= claim.freeSlots;
    this.state.lastTick = new Date();
    return { claim, started };
  }

  /** Runs a claimed task; `stored`, for one begun before its claim committed, says whether that commit landed. */
  private start(task: ClaimedTask, leaseUntil: number, stored?: Promise<boolean>): void {
    const controller = new AbortController();
    const call: RunningCall = {
      taskId: task.id,
      agentId: task.agent.id,
      controller,
      leaseUntil,
      stored: stored === undefined,
      done: Promise.resolve(),
    };
    const claimed = () =>
      this.metrics.taskClaimed(task.type, task.available_at > task.created_at ? task.available_at : task.created_at);
    if (stored === undefined) claimed();
    else {
      void stored.then((landed) => {
        call.stored = landed;
        if (landed) claimed();
      });
    }
    call.done = this.runner
      .run(task, controller, stored)
      // A retry coming due wakes for capacity: the slot it needs may have been freed by another replica meanwhile.
      .then(({ retryInMs }) => {
        if (retryInMs !== undefined) setTimeout(() => this.wake(), retryInMs).unref();
      })
      .catch((error: unknown) =>
        this.logger.error(
          { taskId: task.id, agentId: task.agent.id, err: describeError(error) },
          `Task ${task.id} could not be recorded: ${describeError(error)}`,
        ),
      )
      .finally(() => {
        this.calls.delete(call);
        this.state.runningTasks = this.calls.size;
        if (this.state.phase === 'running') this.wake();
        else this.announcer.announce('capacity'); // draining: the other replicas must refill the slot
      });
    this.calls.add(call);
    this.state.runningTasks = this.calls.size;
  }
}

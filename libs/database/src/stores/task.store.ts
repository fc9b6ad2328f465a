import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { SqlRunner } from '../sql/sql-runner.js';
import { Sql } from '../sql/sql.js';
import type { Statement } from '../sql/statement.js';
import { CLAIM_SQL } from './tasks/claim.sql.js';
import {
  asPending,
  assignRun,
  claimedTask,
  claimedTasks,
  inDispatchOrder,
  NOTHING_PLACED,
  planOf,
  storingRuns,
  type ClaimSubmission,
  type TaskPayload,
} from './tasks/claim-steps.js';
import type { Claim, ClaimedTask, ClaimPlan, ClaimPlanner, PendingTask } from './tasks/claim.types.js';
import { COMPLETE_SQL } from './tasks/complete.sql.js';
import { READ_SQL } from './tasks/read.sql.js';
import { insertTasks, SUBMIT_SQL } from './tasks/submit.sql.js';
import { TRANSITION_SQL } from './tasks/transitions.sql.js';
import {
  TASK_STATUSES,
  type Completion,
  type HeldTask,
  type NewTask,
  type PendingOfRoute,
  type ReapedTask,
  type SubmittedTask,
  type TaskCounts,
  type TaskFilter,
  type TaskPage,
  type TaskStatus,
  type TaskView,
  type TaskWithEvents,
} from './tasks/task.types.js';

const heldParams = (task: HeldTask): unknown[] => [task.taskId, task.agentId, task.replicaId];

/** The parameters of SUBMIT_SQL.one. */
const submitParams = (task: NewTask & { id: string }): unknown[] => [
  task.type,
  task.operation,
  task.model,
  task.priority,
  JSON.stringify(task.context),
  task.input === undefined ? null : JSON.stringify(task.input),
  task.max_attempts,
  task.timeout_ms ?? null,
  task.stream ?? false,
  task.callback_url ?? null,
  task.gateway ?? null,
  task.retain ?? 'full',
  task.id,
];

/** The states a cancel request may end. */
const CANCELLABLE: readonly TaskStatus[] = ['pending', 'in_progress'];

/**
 * The tasks table: every statement that reads or moves a task, one method per transition (docs/architecture.md,
 * "The task lifecycle"). Writes of a running task's end take a HeldTask and land only while it is still held.
 */
@Injectable()
export class TaskStore {
  constructor(private readonly sql: Sql) {}

  /** Stores one task; undefined when no registered agent can run it (nothing stored). */
  async submit(task: NewTask, id: string = randomUUID()): Promise<SubmittedTask | undefined> {
    const rows = await this.sql.rows<SubmittedTask>(SUBMIT_SQL.one, submitParams({ ...task, id }));
    return rows[0];
  }

  /** Stores tasks in one statement, all or none; answers in the order given, or [] when one cannot be run. */
  async submitBatch(tasks: readonly NewTask[]): Promise<SubmittedTask[]> {
    const stored = await insertTasks(
      this.sql,
      SUBMIT_SQL.batch,
      tasks.map((task) => ({ ...task, id: randomUUID() })),
    );
    return stored.every((task) => task !== undefined) ? stored : [];
  }

  /**
   * Stores independent submissions in one statement: each one an agent can run, whatever the others.
   * Answers in the order given, undefined for a task not stored.
   */
  submitEach(
    tasks: readonly NewTask[],
    ids: readonly string[] = tasks.map(() => randomUUID()),
  ): Promise<(SubmittedTask | undefined)[]> {
    return insertTasks(
      this.sql,
      SUBMIT_SQL.each,
      tasks.map((task, i) => ({ ...task, id: ids[i] ?? randomUUID() })),
    );
  }

  async get(id: string): Promise<TaskView | undefined> {
    const rows = await this.sql.rows<TaskView>(READ_SQL.get, [id]);
    return rows[0];
  }

  async list(filter: TaskFilter): Promise<TaskPage> {
    const params = [filter.status ?? null, filter.type ?? null, filter.agent ?? null, filter.model ?? null];
    const [tasks, counts] = await Promise.all([
      this.sql.rows<TaskView>(READ_SQL.page, [...params, filter.limit, filter.offset]),
      this.sql.rows<{ total: number; filtered: number }>(READ_SQL.pageCounts, params),
    ]);
    return { tasks, total: counts[0]?.total ?? 0, filtered: counts[0]?.filtered ?? 0 };
  }

  /** Tasks with their status history (those that exist among `ids`). */
  withEvents(ids: readonly string[]): Promise<TaskWithEvents[]> {
    return this.sql.rows<TaskWithEvents>(READ_SQL.withEvents, [ids]);
  }

  /**
   * pending or in_progress → cancelled: the task's type, and the status it had; undefined when it was not
   * cancellable.
   */
  async cancel(id: string): Promise<{ type: string | null; was: TaskStatus } | undefined> {
    const rows = await this.sql.rows<{ type: string | null; was: TaskStatus }>(TRANSITION_SQL.cancel, [
      id,
      CANCELLABLE,
    ]);
    return rows[0];
  }

  /** pending → cancelled (a call that waited too long in the queue); false when it was no longer pending. */
  async cancelPending(id: string): Promise<boolean> {
    return (await this.sql.rows(TRANSITION_SQL.cancel, [id, ['pending']])).length === 1;
  }

  /**
   * Forgets the content of those of `ids` that ended and are kept as metadata only (`retain` metadata): their
   * input, and the text, tool calls and vectors of their answer; model, token counts, timings and status stay.
   * Returns how many were changed.
   */
  async forgetContent(ids: readonly string[]): Promise<number> {
    return (await this.sql.rows(TRANSITION_SQL.forgetContent, [ids])).length;
  }

  /** The same for at most `batch` tasks that ended more than `graceSeconds` ago (their replica stopped first). */
  async forgetLeftContent(graceSeconds: number, batch: number): Promise<number> {
    return (await this.sql.rows(TRANSITION_SQL.forgetLeftContent, [graceSeconds, batch])).length;
  }

  /**
   * Claims up to `limit` due tasks in one transaction (docs/architecture.md, "Claiming"): the usable agents are
   * locked and their load over all replicas counted (with BEGIN, in one round trip), `planner` decides what to take
   * and where it runs, and the chosen rows become in_progress under this replica's lease (with COMMIT). Its commit
   * does not wait for the disk: a claim PostgreSQL forgets in a crash leaves its tasks pending, to run again, as
   * after a lost lease; the end of a task is written durably, and only while the lease holds.
   */
  claim(replicaId: string, leaseMs: number, limit: number, planner: ClaimPlanner): Promise<Claim> {
    return this.sql.transaction(
      async (tx, [agents = [], load = []]) => {
        const plan = planOf(planner, agents, load);
        const pending = plan === undefined ? [] : await this.takePending(tx, plan, limit);
        if (plan === undefined || pending.length === 0) return { tasks: [], freeSlots: plan?.freeSlots ?? 0 };
        const { placements, recent } = plan.place(pending);
        if (placements.length === 0) return { tasks: [], freeSlots: plan.freeSlots };
        await this.markRecent(tx, recent);
        const [payloads = []] = await tx.rowsThenCommit(assignRun(placements, replicaId, leaseMs));
        return { tasks: claimedTasks(placements, payloads as TaskPayload[]), freeSlots: plan.freeSlots };
      },
      { durable: false, genericPlans: true, noBitmapScans: true, opening: [CLAIM_SQL.lockAgents, CLAIM_SQL.countLoad] },
    );
  }

  /**
   * Stores tasks and claims in the same transaction, which commits durably: a client waiting for its answer is
   * spared a commit and a wake (docs/architecture.md, "The gateway"). Placed before they are stored, the tasks
   * compete for slots with what else is due, by priority then age (they are the newest); one that gets a slot is
   * stored in_progress at once (one row written, not two), the others pending. Nothing due and nothing else placed
   * (an idle Hive), the whole claim takes two round trips. `stored` says of each submission whether it was: not when
   * no registered agent can run it (the claim goes on).
   *
   * The submissions it placed are handed to `begin` as soon as they are placed, before the round trip that stores
   * them, with a promise of whether that commit landed: their calls may begin meanwhile (the agents stay locked
   * until it did), but must not be heard of or ended before it. They are not among the claim's `tasks`.
   */
  submitAndClaim(
    replicaId: string,
    leaseMs: number,
    limit: number,
    planner: ClaimPlanner,
    submissions: readonly { task: NewTask; id: string }[],
    begin: (placed: ClaimedTask[], stored: Promise<boolean>) => void,
  ): Promise<Claim> {
    return this.sql.transaction(
      async (tx, [agents = [], load = [], due = []]) => {
        const plan = planOf(planner, agents, load);
        const anyDue = (due as { due: boolean }[])[0]?.due === true;
        const pending = plan === undefined || !anyDue ? [] : await this.takePending(tx, plan, limit);
        const candidates = submissions.map(({ task, id }) => asPending(task, id));
        const inOrder = candidates.reduce(inDispatchOrder, pending);
        const { placements, recent } = plan?.place(inOrder) ?? NOTHING_PLACED;
        await this.markRecent(tx, recent);
        const placementOf = new Map(placements.map((p) => [p.task, p]));
        const others = placements.filter((p) => !candidates.includes(p.task));
        const given: ClaimSubmission[] = submissions.map(({ task, id }, i) => ({
          task: { ...task, id },
          placed: placementOf.get(candidates[i]),
        }));
        const runs = storingRuns(given, others, replicaId, leaseMs);
        const writing = tx.rowsThenCommit(...runs.filter((run) => run !== undefined));
        const begun = given.flatMap(({ task, placed }) => {
          if (placed === undefined) return [];
          const { context, input = null, stream = false, gateway = null } = task;
          // Its history: pending (1), then this attempt (2).
          return [claimedTask(placed, { context, input, stream, gateway, event_seq: 2 })];
        });
        if (begun.length > 0)
          begin(
            begun,
            writing.then(
              () => true,
              () => false,
            ),
          );
        const results = await writing;
        // Each run's rows, in the order sent; none for a run with nothing to do.
        let sent = 0;
        const [inserted = [], submitted = [], payloads = []] = runs.map((run) =>
          run === undefined ? [] : (results[sent++] ?? []),
        );
        const tasks = claimedTasks(others, payloads as TaskPayload[]);
        const storedIds = new Set(([...inserted, ...submitted] as { id: string }[]).map((row) => row.id));
        const stored = submissions.map(({ id }) => storedIds.has(id));
        return { tasks, freeSlots: plan?.freeSlots ?? 0, stored };
      },
      {
        genericPlans: true,
        noBitmapScans: true,
        opening: [CLAIM_SQL.lockAgents, CLAIM_SQL.countLoad, READ_SQL.anyDue],
      },
    );
  }

  /** in_progress → completed for each result still held by this replica; returns the ids stored. */
  async completeBatch(replicaId: string, completions: readonly Completion[]): Promise<Set<string>> {
    const rows = await this.sql.rows<{ id: string }>(COMPLETE_SQL, [
      completions.map((c) => c.taskId),
      completions.map((c) => JSON.stringify(c.result)),
      completions.map((c) => c.agentId),
      replicaId,
    ]);
    return new Set(rows.map((r) => r.id));
  }

  /** in_progress → failed; false when the task was no longer held. */
  fail(task: HeldTask, error: string): Promise<boolean> {
    return this.transition(TRANSITION_SQL.fail, [...heldParams(task), error]);
  }

  /** in_progress → pending, due in `delayMs`; false when the task was no longer held. */
  retry(task: HeldTask, error: string, delayMs: number): Promise<boolean> {
    return this.transition(TRANSITION_SQL.retry, [...heldParams(task), error, delayMs]);
  }

  /**
   * After the agent said it does not serve the task's model: back to the queue at once for another agent when one
   * can run it and attempts are left, else failed. The new status; undefined when the task was no longer held.
   */
  async reroute(task: HeldTask, error: string): Promise<'pending' | 'failed' | undefined> {
    const rows = await this.sql.rows<{ status: 'pending' | 'failed' }>(TRANSITION_SQL.reroute, [
      ...heldParams(task),
      error,
    ]);
    return rows[0]?.status;
  }

  /** in_progress → pending untouched, the attempt not counted (shutdown); false when no longer held. */
  release(task: HeldTask): Promise<boolean> {
    return this.transition(TRANSITION_SQL.release, heldParams(task));
  }

  /** Extends the leases this replica still holds among `taskIds`; returns those (a missing one was lost). */
  async renewLeases(replicaId: string, taskIds: readonly string[], leaseMs: number): Promise<Set<string>> {
    const rows = await this.sql.rows<{ id: string }>(TRANSITION_SQL.renewLeases, [taskIds, replicaId, leaseMs]);
    return new Set(rows.map((r) => r.id));
  }

  /** Requeues (or fails, on the last attempt) up to `batch` tasks whose lease expired. */
  reap(batch = 500): Promise<ReapedTask[]> {
    return this.sql.rows<ReapedTask>(TRANSITION_SQL.reap, [batch]);
  }

  /** Deletes up to `batch` tasks finished more than `days` ago; returns how many. */
  async sweepFinished(days: number, batch: number): Promise<number> {
    return (await this.sql.rows(TRANSITION_SQL.sweep, [days, batch])).length;
  }

  /** Whether a claim could find anything: some pending task is due. One index probe, no lock. */
  async anyDue(): Promise<boolean> {
    return (await this.sql.rows<{ due: boolean }>(READ_SQL.anyDue))[0]?.due ?? false;
  }

  async countsByState(): Promise<TaskCounts> {
    const rows = await this.sql.rows<{ status: TaskStatus; n: number }>(READ_SQL.countsByState);
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as TaskCounts;
    counts.total = 0;
    for (const { status, n } of rows) {
      counts[status] = n;
      counts.total += n;
    }
    return counts;
  }

  pendingByRoute(): Promise<PendingOfRoute[]> {
    return this.sql.rows<PendingOfRoute>(READ_SQL.pendingByRoute);
  }

  /** The due pending tasks the plan asks for, locked. */
  private takePending(tx: SqlRunner, plan: ClaimPlan, limit: number): Promise<PendingTask[]> {
    const { demand } = plan;
    if (demand.length === 0) return Promise.resolve([]);
    return tx.rows<PendingTask>(CLAIM_SQL.takePending, [
      demand.map((d) => d.type),
      demand.map((d) => d.model),
      demand.map((d) => d.slots),
      limit,
    ]);
  }

  /** The models the claim sent to each agent (their rows are locked). */
  private async markRecent(tx: SqlRunner, recent: ReadonlyMap<string, Record<string, number>>): Promise<void> {
    if (recent.size === 0) return;
    await tx.rows(CLAIM_SQL.markRecent, [[...recent.keys()], [...recent.values()].map((r) => JSON.stringify(r))]);
  }

  private async transition(transition: Statement, params: unknown[]): Promise<boolean> {
    return (await this.sql.rows(transition, params)).length === 1;
  }
}

import type { StatementRun } from '../../sql/sql-runner.js';
import { CLAIM_SQL } from './claim.sql.js';
import { rowParams, SUBMIT_SQL } from './submit.sql.js';
import type { ClaimableAgent, ClaimedTask, ClaimPlan, ClaimPlanner, PendingTask, Placement } from './claim.types.js';
import type { NewTask } from './task.types.js';

/** The pieces of TaskStore's claims that are not statements: plans, candidates and the tasks claimed. */

/** What a claimed task carries to its agent, read as it is assigned. */
export type TaskPayload = Pick<ClaimedTask, 'id' | 'context' | 'input' | 'stream' | 'gateway' | 'event_seq'>;

export const NOTHING_PLACED: ReturnType<ClaimPlan['place']> = { placements: [], recent: new Map() };

/** The plan for the agents the claim locked (none usable: no plan). */
export function planOf(planner: ClaimPlanner, agents: unknown[], load: unknown[]): ClaimPlan | undefined {
  if (agents.length === 0) return undefined;
  const running = new Map((load as { id: string; running: number }[]).map((r) => [r.id, r.running]));
  return planner(agents as ClaimableAgent[], running);
}

/** A task about to be stored, as a claim's candidate: due now, never attempted. */
export function asPending(task: NewTask, id: string): PendingTask {
  const now = new Date();
  return {
    id,
    type: task.type,
    operation: task.operation,
    model: task.model,
    priority: task.priority,
    attempts: 0,
    max_attempts: task.max_attempts,
    timeout_ms: task.timeout_ms ?? null,
    created_at: now,
    available_at: now,
    previous_agent: null,
  };
}

/** The due tasks (by priority, then age) with the newest one among them, after those of its priority. */
export function inDispatchOrder(pending: readonly PendingTask[], newest: PendingTask): PendingTask[] {
  const at = pending.findIndex((task) => task.priority < newest.priority);
  return at === -1 ? [...pending, newest] : [...pending.slice(0, at), newest, ...pending.slice(at)];
}

/** The assign statement of placed tasks, with its parameters. */
export const assignRun = (placements: readonly Placement[], replicaId: string, leaseMs: number): StatementRun => ({
  statement: CLAIM_SQL.assign,
  params: [placements.map((p) => p.task.id), placements.map((p) => p.agent.id), replicaId, leaseMs],
});

/** A submission given to a claim, and where the claim placed it (undefined: nowhere, it is stored pending). */
export interface ClaimSubmission {
  task: NewTask & { id: string };
  placed: Placement | undefined;
}

/**
 * The statements that end a claim storing submissions, in this order, each undefined when it has nothing to do: the
 * submissions placed, inserted in_progress on their agents; the others, inserted pending (SUBMIT_SQL.each); the
 * due tasks placed, assigned.
 */
export function storingRuns(
  submissions: readonly ClaimSubmission[],
  others: readonly Placement[],
  replicaId: string,
  leaseMs: number,
): [placed?: StatementRun, left?: StatementRun, assigned?: StatementRun] {
  const placed = submissions.filter((s) => s.placed !== undefined);
  const left = submissions.filter((s) => s.placed === undefined).map((s) => s.task);
  return [
    placed.length === 0
      ? undefined
      : {
          statement: CLAIM_SQL.insertClaimed,
          params: [...rowParams(placed.map((s) => s.task)), placed.map((s) => s.placed?.agent.id), replicaId, leaseMs],
        },
    left.length === 0 ? undefined : { statement: SUBMIT_SQL.each, params: rowParams(left) },
    others.length === 0 ? undefined : assignRun(others, replicaId, leaseMs),
  ];
}

export function claimedTask(
  { task, agent, model }: Placement,
  payload: Pick<TaskPayload, 'context' | 'input' | 'stream' | 'gateway' | 'event_seq'> | undefined,
): ClaimedTask {
  return {
    ...task,
    context: payload?.context ?? {},
    input: payload?.input ?? null,
    stream: payload?.stream ?? false,
    gateway: payload?.gateway ?? null,
    event_seq: payload?.event_seq ?? 0,
    attempts: task.attempts + 1,
    agent,
    runModel: model,
  };
}

/** Placed tasks as this replica runs them, with the payloads their assignment returned. */
export function claimedTasks(placements: readonly Placement[], payloads: readonly TaskPayload[]): ClaimedTask[] {
  const payloadOf = new Map(payloads.map((p) => [p.id, p]));
  return placements.map((placement) => claimedTask(placement, payloadOf.get(placement.task.id)));
}

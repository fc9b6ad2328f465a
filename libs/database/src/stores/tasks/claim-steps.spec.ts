import { asPending, inDispatchOrder, storingRuns } from './claim-steps.js';
import { CLAIM_SQL } from './claim.sql.js';
import type { ClaimableAgent, PendingTask, Placement } from './claim.types.js';
import { SUBMIT_SQL } from './submit.sql.js';
import type { NewTask } from './task.types.js';

const task = (priority: number): NewTask => ({
  type: 'summarize',
  operation: 'generate',
  model: '',
  priority,
  context: {},
  max_attempts: 3,
});

const pending = (id: string, priority: number): PendingTask => ({ ...asPending(task(priority), id), attempts: 1 });

describe('asPending', () => {
  it('makes a task about to be stored a candidate due now, never attempted, with no previous agent', () => {
    const before = Date.now();
    const candidate = asPending({ ...task(4), timeout_ms: 9_000 }, 'new');
    expect(candidate).toMatchObject({ id: 'new', priority: 4, attempts: 0, timeout_ms: 9_000, previous_agent: null });
    expect(candidate.created_at.getTime()).toBeGreaterThanOrEqual(before);
    expect(candidate.available_at).toEqual(candidate.created_at);
  });
});

describe('inDispatchOrder', () => {
  const due = [pending('a', 5), pending('b', 3), pending('c', 3), pending('d', 1)];
  const ids = (tasks: readonly PendingTask[]) => tasks.map((t) => t.id);

  it('puts the newest task after the due ones of its priority and before those of a lower one', () => {
    expect(ids(inDispatchOrder(due, pending('new', 3)))).toEqual(['a', 'b', 'c', 'new', 'd']);
  });

  it('puts it among the first at the highest priority, last at the lowest, alone when nothing is due', () => {
    expect(ids(inDispatchOrder(due, pending('new', 5)))).toEqual(['a', 'new', 'b', 'c', 'd']);
    expect(ids(inDispatchOrder(due, pending('new', 1)))).toEqual(['a', 'b', 'c', 'd', 'new']);
    expect(ids(inDispatchOrder([], pending('new', 3)))).toEqual(['new']);
  });
});

describe('storingRuns', () => {
  const agent = (id: string) => ({ id }) as ClaimableAgent;
  const placement = (id: string, agentId: string): Placement => ({
    task: pending(id, 3),
    agent: agent(agentId),
    model: 'llama3:8b',
  });
  const submission = (id: string, agentId?: string) => ({
    task: { ...task(3), id },
    placed: agentId === undefined ? undefined : placement(id, agentId),
  });

  it('inserts the placed submissions in one statement with their agents, the others in another, then assigns', () => {
    const [placed, left, assigned] = storingRuns(
      [submission('s1', 'a2'), submission('s2'), submission('s3', 'a1')],
      [placement('due', 'a1')],
      'replica-1',
      60_000,
    );
    expect(placed?.statement).toBe(CLAIM_SQL.insertClaimed);
    expect(placed?.params.slice(0, 2)).toEqual([
      ['s1', 's3'],
      ['summarize', 'summarize'],
    ]);
    expect(placed?.params.slice(13)).toEqual([['a2', 'a1'], 'replica-1', 60_000]);
    expect(left?.statement).toBe(SUBMIT_SQL.each);
    expect(left?.params).toHaveLength(13);
    expect(left?.params.slice(0, 2)).toEqual([['s2'], ['summarize']]);
    expect(assigned).toMatchObject({ statement: CLAIM_SQL.assign, params: [['due'], ['a1'], 'replica-1', 60_000] });
  });

  it('leaves out the statements with nothing to do', () => {
    expect(storingRuns([submission('s1', 'a1')], [], 'r', 1)).toEqual([expect.anything(), undefined, undefined]);
    expect(storingRuns([submission('s1')], [], 'r', 1)).toEqual([undefined, expect.anything(), undefined]);
  });
});

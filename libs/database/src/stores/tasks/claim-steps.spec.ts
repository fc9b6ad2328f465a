import { asPending, inDispatchOrder } from './claim-steps.js';
import type { PendingTask } from './claim.types.js';
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

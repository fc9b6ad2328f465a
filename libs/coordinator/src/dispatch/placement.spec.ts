import type { ClaimableAgent, PendingTask } from '@hive/database';
import { pickAgent, planClaim } from './placement.js';

const agent = (id: string, max_concurrent: number, specialty = 'summarize'): ClaimableAgent => ({
  id,
  endpoint: `http://${id}:11434`,
  model: 'llama3',
  specialty,
  max_concurrent,
  consecutive_failures: 0,
});

const task = (type: string, previous_agent: string | null = null): PendingTask => ({
  id: `task-${type}`,
  type,
  priority: 0,
  context: {},
  attempts: previous_agent === null ? 0 : 1,
  max_attempts: 3,
  timeout_ms: null,
  created_at: new Date(0),
  available_at: new Date(0),
  previous_agent,
});

/** Running tasks per agent id. */
const running = (counts: Record<string, number>): ReadonlyMap<string, number> => new Map(Object.entries(counts));

describe('pickAgent', () => {
  it('picks the least-loaded agent relative to its max_concurrent, not by its count of running tasks', () => {
    const big = agent('big', 10);
    const small = agent('small', 2);
    // big runs 3 of 10 (30 %), small 1 of 2 (50 %).
    expect(pickAgent([small, big], running({ big: 3, small: 1 }), null)).toBe(big);
    // big runs 8 of 10 (80 %), small 1 of 2 (50 %).
    expect(pickAgent([big, small], running({ big: 8, small: 1 }), null)).toBe(small);
  });

  it('counts an agent missing from the load as idle', () => {
    const busy = agent('busy', 4);
    const idle = agent('idle', 4);
    expect(pickAgent([busy, idle], running({ busy: 1 }), null)).toBe(idle);
  });

  it('keeps the first candidate when two are equally loaded', () => {
    const [a, b] = [agent('a', 2), agent('b', 4)];
    expect(pickAgent([a, b], running({ a: 1, b: 2 }), null)).toBe(a);
    expect(pickAgent([b, a], running({ a: 1, b: 2 }), null)).toBe(b);
  });

  it("avoids the previous attempt's agent while another one has room, however loaded", () => {
    const previous = agent('previous', 10);
    const other = agent('other', 10);
    expect(pickAgent([previous, other], running({ other: 9 }), 'previous')).toBe(other);
  });

  it("uses the previous attempt's agent when it is the only one with room", () => {
    const previous = agent('previous', 2);
    const other = agent('other', 2);
    expect(pickAgent([previous, other], running({ previous: 1, other: 2 }), 'previous')).toBe(previous);
    expect(pickAgent([previous], running({}), 'previous')).toBe(previous);
  });

  it('skips full agents, and agents running more than a lowered max_concurrent', () => {
    const full = agent('full', 2);
    const over = agent('over', 1);
    const room = agent('room', 4);
    expect(pickAgent([full, over, room], running({ full: 2, over: 3, room: 3 }), null)).toBe(room);
  });

  it('returns undefined when every candidate is full, or there is none', () => {
    expect(pickAgent([agent('a', 1), agent('b', 2)], running({ a: 1, b: 2 }), null)).toBeUndefined();
    expect(pickAgent([agent('a', 1)], running({ a: 1 }), 'a')).toBeUndefined();
    expect(pickAgent([], running({}), null)).toBeUndefined();
  });
});

describe('planClaim', () => {
  const agents = [
    agent('s1', 2), // 1 free
    agent('s2', 3), // 3 free
    agent('t1', 1, 'translate'), // 1 free
    agent('c1', 2, 'classify'), // full
  ];
  const load = running({ s1: 1, c1: 2 });

  it('asks each type for as many pending tasks as its agents have free slots', () => {
    const plan = planClaim(agents, load, 100);
    expect(Object.fromEntries(plan.demand)).toEqual({ summarize: 4, translate: 1 });
  });

  it("caps each type's demand at the limit", () => {
    expect(Object.fromEntries(planClaim(agents, load, 2).demand)).toEqual({ summarize: 2, translate: 1 });
    expect(Object.fromEntries(planClaim(agents, load, 1).demand)).toEqual({ summarize: 1, translate: 1 });
  });

  it('sums the free slots of every agent, whatever the limit, counting none for an agent over its max', () => {
    expect(planClaim(agents, load, 1).freeSlots).toBe(5);
    expect(planClaim([agent('a', 2), agent('b', 1, 'translate')], running({ a: 5 }), 10).freeSlots).toBe(1);
  });

  it('asks for nothing when there is no agent, or every agent is full', () => {
    expect(planClaim([], running({}), 10)).toMatchObject({ freeSlots: 0, demand: new Map() });
    expect(planClaim([agent('a', 1)], running({ a: 1 }), 10)).toMatchObject({ freeSlots: 0, demand: new Map() });
  });

  it('places each task on the least-loaded agent of its type, counting the tasks it placed', () => {
    // s1 runs 1 of 3, s2 none of 2: s2, then s1 (1/3 < 1/2), s2 (1/2 < 2/3), s1, and then both are full.
    const plan = planClaim([agent('s1', 3), agent('s2', 2)], running({ s1: 1 }), 10);
    const placed = Array.from({ length: 5 }, () => plan.place(task('summarize'))?.id);
    expect(placed).toEqual(['s2', 's1', 's2', 's1', undefined]);
  });

  it('never places more tasks on an agent than its max_concurrent in one claim', () => {
    const plan = planClaim([agent('a', 2), agent('b', 1)], running({ a: 1 }), 10);
    const placed = Array.from({ length: 4 }, () => plan.place(task('summarize'))?.id);
    expect(placed.filter((id) => id === 'a')).toHaveLength(1);
    expect(placed.filter((id) => id === 'b')).toHaveLength(1);
    expect(placed.slice(2)).toEqual([undefined, undefined]);
  });

  it('places a retry on another agent than its previous one', () => {
    const plan = planClaim([agent('s1', 2), agent('s2', 2)], running({ s2: 1 }), 10);
    expect(plan.place(task('summarize', 's1'))?.id).toBe('s2');
  });

  it('places a task only on an agent of its type: an unknown or full type gets undefined', () => {
    const plan = planClaim(agents, load, 10);
    expect(plan.place(task('transcribe'))).toBeUndefined();
    expect(plan.place(task('classify'))).toBeUndefined();
    expect(plan.place(task('translate'))?.id).toBe('t1');
    expect(plan.place(task('translate'))).toBeUndefined();
  });

  it('leaves the load it was given as it was', () => {
    const given = new Map([['s1', 1]]);
    const plan = planClaim([agent('s1', 3)], given, 10);
    plan.place(task('summarize'));
    plan.place(task('summarize'));
    expect([...given]).toEqual([['s1', 1]]);
  });
});

import type { ClaimableAgent, ClaimPlan, PendingTask } from '@hive/database';
import { pickAgent, planClaim, type PlacementSettings } from './placement.js';
import { KEEP_ALIVE_MS } from './warm-models.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const WARM_FIRST: PlacementSettings = { strategy: 'warm-first', warmWaitMs: 10_000 };
const LEAST_LOADED: PlacementSettings = { strategy: 'least-loaded', warmWaitMs: 10_000 };

/** An Ollama agent serving llama3 (its default) for the summarize specialty, holding nothing loaded. */
const agent = (id: string, max_concurrent: number, fields: Partial<ClaimableAgent> = {}): ClaimableAgent => ({
  id,
  endpoint: `http://${id}:11434`,
  kind: 'ollama',
  model: 'llama3',
  models: ['llama3'],
  specialty: 'summarize',
  max_concurrent,
  consecutive_failures: 0,
  api_key_encrypted: null,
  loaded_models: [],
  loaded_capacity: 0,
  recent_models: {},
  models_probed_at: null,
  ...fields,
});

/** An agent serving llama3, mistral and qwen that Hive sent `models` a second ago: they count as loaded there. */
const warmAgent = (id: string, max_concurrent: number, models: string[], fields: Partial<ClaimableAgent> = {}) =>
  agent(id, max_concurrent, {
    models: ['llama3', 'mistral', 'qwen'],
    recent_models: Object.fromEntries(models.map((m) => [m, NOW - 1_000])),
    ...fields,
  });

/** A pending generate task of any type for llama3, submitted just now. */
const task = (id: string, fields: Partial<PendingTask> = {}): PendingTask => ({
  id,
  type: '',
  model: 'llama3',
  operation: 'generate',
  priority: 0,
  attempts: fields.previous_agent ? 1 : 0,
  max_attempts: 3,
  timeout_ms: null,
  created_at: new Date(NOW),
  available_at: new Date(NOW),
  previous_agent: null,
  ...fields,
});

/**
 * A task due TASK_WARM_WAIT_MS before NOW, when tasks of `task` are due: placed beside one of those, it no longer waits
 * for an agent holding its model.
 */
const overdue = (id: string, fields: Partial<PendingTask> = {}): PendingTask =>
  task(id, { created_at: new Date(NOW - 60_000), available_at: new Date(NOW - WARM_FIRST.warmWaitMs), ...fields });

/** Running tasks per agent id. */
const running = (counts: Record<string, number> = {}): ReadonlyMap<string, number> => new Map(Object.entries(counts));

/** The agent each placed task went to, by task id (a task left out stays pending). */
const placed = (plan: ClaimPlan, tasks: PendingTask[]): Record<string, string> =>
  Object.fromEntries(plan.place(tasks).placements.map(({ task, agent }) => [task.id, agent.id]));

/** The plan's demand as "type/model" → slots. */
const demandOf = (plan: ClaimPlan): Record<string, number> =>
  Object.fromEntries(plan.demand.map(({ type, model, slots }) => [`${type}/${model}`, slots]));

describe('pickAgent', () => {
  const option = (id: string, max: number) => ({ agent: agent(id, max), model: 'llama3' });

  it('picks the least-loaded option relative to its max_concurrent, not by its count of running tasks', () => {
    const big = option('big', 10);
    const small = option('small', 2);
    // big runs 3 of 10 (30 %), small 1 of 2 (50 %).
    expect(pickAgent([small, big], running({ big: 3, small: 1 }), null)).toBe(big);
    // big runs 8 of 10 (80 %), small 1 of 2 (50 %).
    expect(pickAgent([big, small], running({ big: 8, small: 1 }), null)).toBe(small);
  });

  it('counts an agent missing from the load as idle', () => {
    const busy = option('busy', 4);
    const idle = option('idle', 4);
    expect(pickAgent([busy, idle], running({ busy: 1 }), null)).toBe(idle);
  });

  it('keeps the first option when two are equally loaded', () => {
    const [a, b] = [option('a', 2), option('b', 4)];
    expect(pickAgent([a, b], running({ a: 1, b: 2 }), null)).toBe(a);
    expect(pickAgent([b, a], running({ a: 1, b: 2 }), null)).toBe(b);
  });

  it("avoids the previous attempt's agent while another one has room, however loaded", () => {
    const previous = option('previous', 10);
    const other = option('other', 10);
    expect(pickAgent([previous, other], running({ other: 9 }), 'previous')).toBe(other);
  });

  it("uses the previous attempt's agent when it is the only one with room", () => {
    const previous = option('previous', 2);
    const other = option('other', 2);
    expect(pickAgent([previous, other], running({ previous: 1, other: 2 }), 'previous')).toBe(previous);
    expect(pickAgent([previous], running(), 'previous')).toBe(previous);
  });

  it('skips full agents, and agents running more than a lowered max_concurrent', () => {
    const full = option('full', 2);
    const over = option('over', 1);
    const room = option('room', 4);
    expect(pickAgent([full, over, room], running({ full: 2, over: 3, room: 3 }), null)).toBe(room);
  });

  it('returns undefined when every option is full, or there is none', () => {
    expect(pickAgent([option('a', 1), option('b', 2)], running({ a: 1, b: 2 }), null)).toBeUndefined();
    expect(pickAgent([option('a', 1)], running({ a: 1 }), 'a')).toBeUndefined();
    expect(pickAgent([option('zero', 0)], running(), null)).toBeUndefined();
    expect(pickAgent([], running(), null)).toBeUndefined();
  });
});

describe('planClaim: what to claim', () => {
  const agents = [
    agent('s1', 2), // 1 free
    agent('s2', 3), // 3 free
    agent('t1', 1, { specialty: 'translate', model: 'mistral', models: ['mistral'] }), // 1 free
    agent('c1', 2, { specialty: 'classify' }), // full
  ];
  const load = running({ s1: 1, c1: 2 });

  it("asks each route (its specialty with its default model, and each model it serves) for its agents' free slots", () => {
    expect(demandOf(planClaim(agents, load, 100, WARM_FIRST, NOW))).toEqual({
      'summarize/': 4,
      '/llama3': 4,
      'summarize/llama3': 4,
      'translate/': 1,
      '/mistral': 1,
      'translate/mistral': 1,
    });
  });

  it("caps each route's demand at the limit", () => {
    expect(demandOf(planClaim(agents, load, 2, WARM_FIRST, NOW))).toMatchObject({ 'summarize/': 2, '/mistral': 1 });
    expect(Object.values(demandOf(planClaim(agents, load, 1, WARM_FIRST, NOW)))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('asks for a model served with the :latest tag under both names', () => {
    const tagged = agent('a', 2, { model: 'llama3', models: ['llama3:latest', 'qwen:7b'] });
    expect(demandOf(planClaim([tagged], running(), 10, WARM_FIRST, NOW))).toEqual({
      'summarize/': 2,
      '/llama3:latest': 2,
      'summarize/llama3:latest': 2,
      '/llama3': 2,
      'summarize/llama3': 2,
      '/qwen:7b': 2,
      'summarize/qwen:7b': 2,
    });
  });

  it('counts an agent once for a route it serves under two names', () => {
    const both = agent('a', 2, { models: ['llama3', 'llama3:latest'] });
    expect(demandOf(planClaim([both], running(), 10, WARM_FIRST, NOW))).toEqual({
      'summarize/': 2,
      '/llama3': 2,
      'summarize/llama3': 2,
      '/llama3:latest': 2,
      'summarize/llama3:latest': 2,
    });
  });

  it('asks for no tasks of its specialty without a model when the agent does not serve its default model', () => {
    const lost = agent('a', 2, { model: 'gone', models: ['mistral'] });
    expect(demandOf(planClaim([lost], running(), 10, WARM_FIRST, NOW))).toEqual({
      '/mistral': 2,
      'summarize/mistral': 2,
    });
  });

  it('sums the free slots of every agent, whatever the limit, counting none for an agent over its max', () => {
    expect(planClaim(agents, load, 1, WARM_FIRST, NOW).freeSlots).toBe(5);
    expect(planClaim([agent('a', 2), agent('b', 1)], running({ a: 5 }), 10, WARM_FIRST, NOW).freeSlots).toBe(1);
  });

  it('asks for nothing when there is no agent, or every agent is full', () => {
    expect(planClaim([], running(), 10, WARM_FIRST, NOW)).toMatchObject({ freeSlots: 0, demand: [] });
    expect(planClaim([agent('a', 1)], running({ a: 1 }), 10, WARM_FIRST, NOW)).toMatchObject({
      freeSlots: 0,
      demand: [],
    });
  });
});

describe('planClaim: where tasks run', () => {
  it('places each task on the least-loaded agent, counting the tasks it placed', () => {
    // s1 runs 1 of 3, s2 none of 2: s2, then s1 (1/3 < 1/2), s2 (1/2 < 2/3), s1, and then both are full.
    const plan = planClaim([agent('s1', 3), agent('s2', 2)], running({ s1: 1 }), 10, LEAST_LOADED, NOW);
    const tasks = ['t1', 't2', 't3', 't4', 't5'].map((id) => task(id));
    const placements = plan.place(tasks).placements;
    expect(placements.map((p) => [p.task.id, p.agent.id])).toEqual([
      ['t1', 's2'],
      ['t2', 's1'],
      ['t3', 's2'],
      ['t4', 's1'],
    ]);
  });

  it('never places more tasks on an agent than its max_concurrent in one claim', () => {
    const plan = planClaim([agent('a', 2), agent('b', 1)], running({ a: 1 }), 10, WARM_FIRST, NOW);
    const where = placed(
      plan,
      ['t1', 't2', 't3', 't4'].map((id) => task(id)),
    );
    expect(Object.values(where).sort()).toEqual(['a', 'b']);
  });

  it('never exceeds max_concurrent with warm tasks either, nor with overdue ones', () => {
    const plan = planClaim([warmAgent('w', 2, ['llama3'])], running({ w: 1 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1'), overdue('t2'), task('t3')])).toEqual({ t1: 'w' });
  });

  it('leaves the load it was given as it was', () => {
    const given = new Map([['s1', 1]]);
    const plan = planClaim([agent('s1', 3)], given, 10, WARM_FIRST, NOW);
    plan.place([task('t1'), task('t2')]);
    expect([...given]).toEqual([['s1', 1]]);
  });

  it('places a task only on an agent of its type that serves its model', () => {
    const agents = [agent('s1', 2), agent('t1', 1, { specialty: 'translate', model: 'mistral', models: ['mistral'] })];
    const plan = planClaim(agents, running(), 10, WARM_FIRST, NOW);
    const tasks = [
      task('unknown model', { model: 'phi3' }),
      task('unknown type', { type: 'classify' }),
      task('wrong pair', { type: 'translate', model: 'llama3' }),
      task('translate default', { type: 'translate', model: '' }),
      task('translate full', { type: 'translate', model: '' }),
      task('any mistral', { model: 'mistral' }),
      task('any llama3', { model: 'llama3' }),
    ];
    expect(placed(plan, tasks)).toEqual({ 'translate default': 't1', 'any llama3': 's1' });
  });

  it("runs a task with the name its agent serves the model by: the agent's default, or the :latest tag", () => {
    const tagged = agent('a', 4, { model: 'qwen', models: ['llama3:latest', 'qwen:latest'] });
    const plan = planClaim([tagged], running(), 10, WARM_FIRST, NOW);
    const placements = plan.place([
      task('named', { model: 'llama3' }),
      task('default', { type: 'summarize', model: '' }),
    ]);
    expect(placements.placements.map((p) => [p.task.id, p.model])).toEqual([
      ['named', 'llama3:latest'],
      ['default', 'qwen:latest'],
    ]);
  });

  it('places a retry on another agent than its previous one, even a busier one', () => {
    const plan = planClaim([agent('s1', 2), agent('s2', 2)], running({ s2: 1 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('retry', { previous_agent: 's1' })])).toEqual({ retry: 's2' });
  });

  it('places a retry on its previous agent when no other has room', () => {
    const plan = planClaim([agent('s1', 2), agent('s2', 1)], running({ s2: 1 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('retry', { previous_agent: 's1' })])).toEqual({ retry: 's1' });
  });
});

describe('planClaim: warm-first', () => {
  it('prefers an agent that holds the model loaded over a less loaded one', () => {
    const agents = [agent('cold', 4), warmAgent('warm', 4, ['llama3'])];
    const plan = planClaim(agents, running({ warm: 2 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1')])).toEqual({ t1: 'warm' });
  });

  it("counts a model loaded by the agent's last probe until it expires there", () => {
    const loaded = (id: string, expiresAt: number) =>
      agent(id, 4, { loaded_models: [{ name: 'llama3', expires_at: new Date(expiresAt).toISOString() }] });
    const agents = [agent('cold', 4), loaded('expired', NOW - 1), loaded('loaded', NOW + 60_000)];
    const plan = planClaim(agents, running({ loaded: 3, expired: 0 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1')])).toEqual({ t1: 'loaded' });
  });

  it('counts a model sent to the agent within the keep-alive, not before', () => {
    const sentAt = (id: string, at: number) => agent(id, 4, { recent_models: { llama3: at } });
    const agents = [agent('cold', 4), sentAt('stale', NOW - KEEP_ALIVE_MS), sentAt('recent', NOW - KEEP_ALIVE_MS + 1)];
    const plan = planClaim(agents, running({ recent: 3 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1')])).toEqual({ t1: 'recent' });
  });

  it('picks the least loaded of the agents that hold the model', () => {
    const agents = [agent('cold', 4), warmAgent('w1', 4, ['llama3']), warmAgent('w2', 4, ['llama3'])];
    const plan = planClaim(agents, running({ w1: 2, w2: 1 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1'), task('t2')])).toEqual({ t1: 'w2', t2: 'w1' });
  });

  it('keeps a task whose model is loaded nowhere waiting while tasks of its priority fill the slots warm', () => {
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('cold'), task('warm', { model: 'mistral' })])).toEqual({ warm: 'w' });
  });

  it('gives a waiting task a slot left after the warm tasks of its priority, on the least-loaded agent', () => {
    const agents = [warmAgent('w', 2, ['mistral']), agent('idle', 2)];
    const plan = planClaim(agents, running(), 10, WARM_FIRST, NOW);
    const placements = plan.place([task('cold'), task('warm', { model: 'mistral' })]).placements;
    expect(placements.map((p) => [p.task.id, p.agent.id])).toEqual([
      ['warm', 'w'],
      ['cold', 'idle'],
    ]);
  });

  it('places a higher priority first even when its model is loaded nowhere', () => {
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, WARM_FIRST, NOW);
    const tasks = [task('urgent', { priority: 5 }), task('warm', { priority: 0, model: 'mistral' })];
    expect(placed(plan, tasks)).toEqual({ urgent: 'w' });
  });

  it('lets a task that waited warmWaitMs take any slot in its turn, still preferring a warm agent', () => {
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, WARM_FIRST, NOW);
    expect(placed(plan, [overdue('late'), task('warm', { model: 'mistral' })])).toEqual({ late: 'w' });

    const agents = [agent('cold', 4), warmAgent('w', 4, ['llama3'])];
    const busyWarm = planClaim(agents, running({ w: 3 }), 10, WARM_FIRST, NOW);
    expect(placed(busyWarm, [overdue('late')])).toEqual({ late: 'w' });
  });

  it('does not count a long wait as passed over when the tasks up for slots beside it waited as long', () => {
    // A backlog: every task was submitted a minute ago; the cold one was overtaken by nobody, so it still waits.
    const old = { created_at: new Date(NOW - 60_000), available_at: new Date(NOW - 60_000) };
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('cold', old), task('warm', { ...old, model: 'mistral' })])).toEqual({ warm: 'w' });
    // Alone, a task is passed over by no one: it waits for a warm agent only while no cold one has room.
    const alone = planClaim([agent('cold', 1)], running(), 10, WARM_FIRST, NOW);
    expect(placed(alone, [task('first', old)])).toEqual({ first: 'cold' });
  });

  it('measures the wait from when the task became due, so a retry that was just put back waits again', () => {
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, WARM_FIRST, NOW);
    const retry = overdue('retry', { attempts: 1, available_at: new Date(NOW - WARM_FIRST.warmWaitMs + 1) });
    expect(placed(plan, [retry, task('warm', { model: 'mistral' })])).toEqual({ warm: 'w' });
  });

  it('loads a cold model on one agent and sends the rest of its tasks in the claim there', () => {
    const plan = planClaim([agent('a', 4), agent('b', 4)], running(), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('t1'), task('t2'), task('t3')])).toEqual({ t1: 'a', t2: 'a', t3: 'a' });
  });

  it('counts a model as evicted where a claim loaded another beyond what the agent holds at once', () => {
    // a holds one model at a time (mistral); the overdue llama3 task loads llama3 there, evicting mistral.
    const holdsOne = warmAgent('a', 4, ['mistral'], { loaded_capacity: 1 });
    const plan = planClaim([holdsOne, agent('b', 4, { models: ['mistral'] })], running(), 10, WARM_FIRST, NOW);
    expect(placed(plan, [overdue('late'), task('mistral', { model: 'mistral' })])).toEqual({ late: 'a', mistral: 'b' });
  });

  it("does not count a retry's previous agent as warm: the retry goes to another agent with room", () => {
    const agents = [warmAgent('previous', 4, ['llama3']), agent('other', 4)];
    const plan = planClaim(agents, running({ other: 3 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('retry', { previous_agent: 'previous' })])).toEqual({ retry: 'other' });
  });

  it('prefers for a retry another warm agent to its previous one, and its previous one to none', () => {
    const agents = [warmAgent('previous', 4, ['llama3']), warmAgent('warm', 4, ['llama3']), agent('cold', 4)];
    const plan = planClaim(agents, running({ warm: 3 }), 10, WARM_FIRST, NOW);
    expect(placed(plan, [task('retry', { previous_agent: 'previous' })])).toEqual({ retry: 'warm' });

    const alone = planClaim([warmAgent('previous', 4, ['llama3'])], running(), 10, WARM_FIRST, NOW);
    expect(placed(alone, [task('retry', { previous_agent: 'previous' })])).toEqual({ retry: 'previous' });
  });
});

describe('planClaim: least-loaded', () => {
  it('ignores which models are loaded', () => {
    const agents = [warmAgent('warm', 4, ['llama3']), agent('cold', 4)];
    const plan = planClaim(agents, running({ warm: 1 }), 10, LEAST_LOADED, NOW);
    expect(placed(plan, [task('t1')])).toEqual({ t1: 'cold' });
  });

  it('places tasks in their order, none waiting for a warm slot', () => {
    const plan = planClaim([warmAgent('w', 1, ['mistral'])], running(), 10, LEAST_LOADED, NOW);
    expect(placed(plan, [task('cold'), task('warm', { model: 'mistral' })])).toEqual({ cold: 'w' });
  });
});

describe('planClaim: the record of models sent', () => {
  it('records when each agent was sent each model, only for agents whose record changed', () => {
    const agents = [
      agent('fresh', 4, { models: ['llama3', 'mistral'] }),
      agent('idle', 1, { recent_models: { llama3: NOW - KEEP_ALIVE_MS } }),
      agent('just-sent', 4, { recent_models: { mistral: NOW - 500 }, models: ['mistral'] }),
    ];
    const plan = planClaim(agents, running({ idle: 1 }), 10, LEAST_LOADED, NOW);
    const { placements, recent } = plan.place([
      task('t1'),
      task('t2', { model: 'mistral' }),
      task('t3', { model: 'mistral' }),
    ]);
    expect(placements.map((p) => [p.task.id, p.agent.id])).toEqual([
      ['t1', 'fresh'],
      ['t2', 'just-sent'],
      ['t3', 'fresh'],
    ]);
    expect(Object.fromEntries(recent)).toEqual({ fresh: { llama3: NOW, mistral: NOW } });
  });

  it('records nothing when nothing was placed', () => {
    const plan = planClaim([agent('a', 1)], running(), 10, WARM_FIRST, NOW);
    expect(plan.place([])).toEqual({ placements: [], recent: new Map() });
  });
});

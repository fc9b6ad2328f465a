import {
  LATEST_TAG,
  routeModel,
  type ClaimableAgent,
  type ClaimPlan,
  type PendingTask,
  type Placement,
  type TaskRoute,
} from '@hive/database';
import { recentAfter, WarmModels } from './warm-models.js';

/** AGENT_PLACEMENT: warm-first prefers agents that hold the task's model loaded; least-loaded ignores that. */
export type PlacementStrategy = 'warm-first' | 'least-loaded';

export interface PlacementSettings {
  strategy: PlacementStrategy;
  /**
   * TASK_WARM_WAIT_MS: once tasks due this much later than a task are up for a slot, it takes one whether its model
   * is loaded there or not.
   */
  warmWaitMs: number;
}

/** An agent that can run a task, and the name it serves the task's model by. */
interface Option {
  agent: ClaimableAgent;
  model: string;
}

/**
 * Among the options with a free slot: not the agent of the previous attempt while another has room (a failing
 * agent answers fast, so it would otherwise look the least loaded), then the least loaded relative to its
 * max_concurrent; the first of equals. Undefined when every option is full.
 */
export function pickAgent<O extends { agent: ClaimableAgent }>(
  options: readonly O[],
  load: ReadonlyMap<string, number>,
  avoid: string | null,
): O | undefined {
  let best: O | undefined;
  let bestScore = Infinity;
  for (const option of options) {
    const { id, max_concurrent } = option.agent;
    const running = load.get(id) ?? 0;
    if (running >= max_concurrent) continue;
    const score = running / max_concurrent + (id === avoid ? 1 : 0);
    if (score < bestScore) [best, bestScore] = [option, score];
  }
  return best;
}

const routeKey = (route: TaskRoute): string => `${route.type}\u0000${route.model}`;

/**
 * The routes of pending tasks an agent could run: its specialty with its default model, and each model it serves;
 * each once, though it serves a model under two names (`llama3` and `llama3:latest`), or its free slots would count
 * twice.
 */
function routesOf(agent: ClaimableAgent): TaskRoute[] {
  const routes = new Map<string, TaskRoute>();
  const add = (route: TaskRoute) => routes.set(routeKey(route), route);
  if (routeModel(agent, { type: agent.specialty, model: '' }) !== undefined) add({ type: agent.specialty, model: '' });
  for (const served of agent.models) {
    const names = served.endsWith(LATEST_TAG) ? [served, served.slice(0, -LATEST_TAG.length)] : [served];
    for (const model of names) {
      add({ type: '', model });
      add({ type: agent.specialty, model });
    }
  }
  return [...routes.values()];
}

/**
 * Where claimed tasks run (docs/architecture.md, "Placement"). Each route of pending tasks (a type, a model) may
 * take as many as the agents that can run it have free slots (at most `limit`). Tasks are placed by priority; within
 * one priority, first those whose model an agent with room holds loaded, then the others on whichever agent has
 * room (the least loaded). A task whose model is loaded nowhere with room thus waits only while tasks of its
 * priority fill every slot with loaded models, and is passed over by tasks due later than it by at most
 * `warmWaitMs`: the claim sees the oldest due task of every route, so a task that younger ones overtake that much
 * takes the next slot in its turn. The load and the loaded models count what was placed so far, so one claim never
 * pushes an agent past max_concurrent.
 */
export function planClaim(
  agents: readonly ClaimableAgent[],
  runningByAgent: ReadonlyMap<string, number>,
  limit: number,
  settings: PlacementSettings,
  now = Date.now(),
): ClaimPlan {
  const load = new Map(runningByAgent);
  const slots = new Map<string, TaskRoute & { slots: number }>();
  let freeSlots = 0;
  for (const agent of agents) {
    const free = Math.max(0, agent.max_concurrent - (load.get(agent.id) ?? 0));
    freeSlots += free;
    if (free === 0) continue;
    for (const route of routesOf(agent)) {
      const key = routeKey(route);
      const demand = slots.get(key) ?? { ...route, slots: 0 };
      demand.slots = Math.min(limit, demand.slots + free);
      slots.set(key, demand);
    }
  }

  const warm = new Map(agents.map((a) => [a.id, new WarmModels(a, now)]));
  const optionsByRoute = new Map<string, Option[]>();
  const optionsFor = (task: PendingTask): Option[] => {
    const key = routeKey(task);
    let options = optionsByRoute.get(key);
    if (options === undefined) {
      options = agents.flatMap((agent) => {
        const model = routeModel(agent, task);
        return model === undefined ? [] : [{ agent, model }];
      });
      optionsByRoute.set(key, options);
    }
    return options;
  };
  // A retry does not count the agent of its previous attempt as warm: it goes elsewhere when another has room.
  const warmOptions = (task: PendingTask) =>
    optionsFor(task).filter((o) => o.agent.id !== task.previous_agent && warm.get(o.agent.id)?.has(o.model) === true);

  return {
    freeSlots,
    demand: [...slots.values()],
    place(tasks) {
      const placements: Placement[] = [];
      const sent = new Map<string, Set<string>>();
      const assign = (task: PendingTask, option: Option | undefined): boolean => {
        if (option === undefined) return false;
        const { agent, model } = option;
        load.set(agent.id, (load.get(agent.id) ?? 0) + 1);
        warm.get(agent.id)?.use(model);
        sent.set(agent.id, (sent.get(agent.id) ?? new Set()).add(model));
        placements.push({ task, agent, model });
        return true;
      };
      const anywhere = (task: PendingTask) => {
        const loaded = settings.strategy === 'warm-first' ? warmOptions(task) : [];
        return pickAgent(loaded, load, task.previous_agent) ?? pickAgent(optionsFor(task), load, task.previous_agent);
      };
      for (const group of byPriority(tasks)) {
        // Passed over long enough: tasks of its priority due warmWaitMs after it are up for a slot too. Measured
        // against them, not the clock: in a backlog where everything waits long, waiting alone is no unfairness.
        const newest = Math.max(...group.map(dueSince));
        const overdue = (task: PendingTask) => newest - dueSince(task) >= settings.warmWaitMs;
        const waiting: PendingTask[] = [];
        for (const task of group) {
          if (settings.strategy === 'least-loaded' || overdue(task)) assign(task, anywhere(task));
          else if (!assign(task, pickAgent(warmOptions(task), load, task.previous_agent))) waiting.push(task);
        }
        for (const task of waiting) assign(task, anywhere(task));
      }
      const recent = new Map<string, Record<string, number>>();
      for (const agent of agents) {
        const models = sent.get(agent.id);
        const next = models === undefined ? undefined : recentAfter(agent.recent_models, models, now);
        if (next !== undefined) recent.set(agent.id, next);
      }
      return { placements, recent };
    },
  };
}

/** Since when a task is due: its submission, or its retry time. */
const dueSince = (task: PendingTask): number => Math.max(task.created_at.getTime(), task.available_at.getTime());

/** Tasks in dispatch order, cut where the priority changes. */
function byPriority(tasks: readonly PendingTask[]): PendingTask[][] {
  const groups: PendingTask[][] = [];
  for (const task of tasks) {
    const last = groups.at(-1);
    if (last !== undefined && last[0]?.priority === task.priority) last.push(task);
    else groups.push([task]);
  }
  return groups;
}

import type { ClaimableAgent, ClaimPlan, PendingTask } from '@hive/database';

/**
 * The least-loaded agent with a free slot (load relative to its max_concurrent), avoiding `avoid` (the agent of the
 * previous attempt) while another one has room; undefined when every candidate is full.
 */
export function pickAgent(
  candidates: readonly ClaimableAgent[],
  load: ReadonlyMap<string, number>,
  avoid: string | null,
): ClaimableAgent | undefined {
  let best: ClaimableAgent | undefined;
  let bestScore = Infinity;
  for (const agent of candidates) {
    const running = load.get(agent.id) ?? 0;
    if (running >= agent.max_concurrent) continue;
    const score = running / agent.max_concurrent + (agent.id === avoid ? 1 : 0);
    if (score < bestScore) [best, bestScore] = [agent, score];
  }
  return best;
}

/**
 * Where claimed tasks run (docs/architecture.md, "Claiming"): each task type may take as many pending tasks as its
 * agents have free slots (at most `limit`), and each task goes to the least-loaded agent of its type. The load
 * counts the tasks placed so far, so one claim never pushes an agent past max_concurrent.
 */
export function planClaim(
  agents: readonly ClaimableAgent[],
  runningByAgent: ReadonlyMap<string, number>,
  limit: number,
): ClaimPlan {
  const load = new Map(runningByAgent);
  const bySpecialty = new Map<string, ClaimableAgent[]>();
  const freeByType = new Map<string, number>();
  let freeSlots = 0;
  for (const agent of agents) {
    bySpecialty.set(agent.specialty, [...(bySpecialty.get(agent.specialty) ?? []), agent]);
    const slots = Math.max(0, agent.max_concurrent - (load.get(agent.id) ?? 0));
    freeByType.set(agent.specialty, (freeByType.get(agent.specialty) ?? 0) + slots);
    freeSlots += slots;
  }
  const demand = new Map(
    [...freeByType].filter(([, slots]) => slots > 0).map(([type, slots]) => [type, Math.min(slots, limit)] as const),
  );
  return {
    freeSlots,
    demand,
    place(task: PendingTask) {
      const agent = pickAgent(bySpecialty.get(task.type) ?? [], load, task.previous_agent);
      if (agent !== undefined) load.set(agent.id, (load.get(agent.id) ?? 0) + 1);
      return agent;
    },
  };
}

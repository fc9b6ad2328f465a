export type AgentStatus = 'available' | 'busy' | 'offline';

export interface AgentLoad {
  enabled: boolean;
  offline: boolean;
  current_tasks: number;
  max_concurrent: number;
}

/** Disabled or failing agents are offline; an agent at its max_concurrent is busy. */
export function agentStatus(agent: AgentLoad): AgentStatus {
  if (!agent.enabled || agent.offline) return 'offline';
  return agent.current_tasks >= agent.max_concurrent ? 'busy' : 'available';
}

export type AgentCounts = Record<AgentStatus | 'total', number>;

/** How many agents there are, and how many in each status (for the status report and the health check). */
export function countAgents(agents: readonly { status: AgentStatus }[]): AgentCounts {
  const counts: AgentCounts = { total: agents.length, available: 0, busy: 0, offline: 0 };
  for (const { status } of agents) counts[status] += 1;
  return counts;
}

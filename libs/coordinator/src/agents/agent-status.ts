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

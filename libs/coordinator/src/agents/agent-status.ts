export type AgentStatus = 'available' | 'busy' | 'offline';

export interface AgentLoadRow {
  id: string;
  specialty: string;
  max_concurrent: number;
  enabled: boolean;
  offline: boolean;
  current_tasks: number;
}

/** Every agent with its load, counted from the tasks table so that all replicas agree. */
export const AGENT_LOAD_SQL = `
  SELECT a.id, a.specialty, a.max_concurrent, a.enabled, a.offline,
         (SELECT count(*)::int FROM tasks t WHERE t.assigned_agent = a.id AND t.status = 'in_progress') AS current_tasks
    FROM agents a
   ORDER BY a.id`;

/** Disabled or failing agents are offline; an agent at its max_concurrent is busy. */
export function agentStatus(agent: Pick<AgentLoadRow, 'enabled' | 'offline' | 'current_tasks' | 'max_concurrent'>): AgentStatus {
  if (!agent.enabled || agent.offline) return 'offline';
  return agent.current_tasks >= agent.max_concurrent ? 'busy' : 'available';
}

import type { AgentRecord } from '@hive/database';
import { agentStatus, type AgentStatus } from './agent-status.js';

/** An agent as the API reports it: its record, with the status derived from it. */
export type AgentView = Omit<AgentRecord, 'offline'> & { status: AgentStatus };

export function toAgentView({ offline, ...record }: AgentRecord): AgentView {
  return { ...record, status: agentStatus({ ...record, offline }) };
}

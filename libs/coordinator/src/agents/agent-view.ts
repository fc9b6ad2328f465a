import type { AgentRecord } from '@hive/database';
import { agentStatus, type AgentStatus } from './agent-status.js';
import { WarmModels } from '../dispatch/warm-models.js';

/**
 * An agent as the API reports it: its record, with the status derived from it, and the models Hive takes to be
 * loaded there now in place of its raw memory records.
 */
export type AgentView = Omit<AgentRecord, 'offline' | 'loaded_models' | 'loaded_capacity' | 'recent_models'> & {
  status: AgentStatus;
  loaded_models: string[];
};

export function toAgentView(
  { offline, loaded_models, loaded_capacity, recent_models, ...record }: AgentRecord,
  now = Date.now(),
): AgentView {
  const memory = new WarmModels(
    { loaded_models, loaded_capacity, recent_models, models_probed_at: record.models_probed_at },
    now,
  );
  return { ...record, status: agentStatus({ ...record, offline }), loaded_models: memory.models() };
}

/** The work the benchmark gives Hive and the raw loop alike: its agents' rows and its tasks. */
import type { OllamaAgent } from '../test/support/ollama-agent.js';

export const TASK_TYPE = 'bench';
export const MODEL = 'llama3:8b';

/** Task `i`: the same type, priority and prompt shape for every submission mode and for the raw loop. */
export const task = (i: number) => ({ type: TASK_TYPE, priority: 3, context: { prompt: `bench task ${i}` } });

/** An agent as the benchmark registers it (POST /api/agents, or an INSERT for the raw loop). */
export interface AgentRow {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
}

export function agentRows(agents: readonly OllamaAgent[], maxConcurrent: number): AgentRow[] {
  return agents.map((agent, i) => ({
    id: `bench-agent-${i + 1}`,
    endpoint: agent.url,
    model: MODEL,
    specialty: TASK_TYPE,
    max_concurrent: maxConcurrent,
  }));
}

/** Generate requests the agents saw since their last reset. */
export const requestsSeen = (agents: readonly OllamaAgent[]): number =>
  agents.reduce((n, a) => n + a.requests.length, 0);

/** Clears the agents' request records, between measurements. */
export function resetAgents(agents: readonly OllamaAgent[]): void {
  for (const agent of agents) agent.reset();
}

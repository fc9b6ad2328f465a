export { CoordinatorState, type CoordinatorPhase } from './coordinator-state.js';
export { AGENT_LOAD_SQL, agentStatus, type AgentStatus, type AgentLoadRow } from './agents/agent-status.js';
export { CoordinatorModule } from './coordinator.module.js';

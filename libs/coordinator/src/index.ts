export { CoordinatorModule } from './coordinator.module.js';
export { CoordinatorState, type CoordinatorPhase } from './coordinator-state.js';
export { agentStatus, countAgents, type AgentStatus, type AgentLoad, type AgentCounts } from './agents/agent-status.js';
export type { AgentView } from './agents/agent-view.js';
export { AgentRegistry } from './agents/agent-registry.service.js';
export { TaskService, type TaskSubmission } from './tasks/task.service.js';
export * from './errors/coordinator-errors.js';

export { CoordinatorModule } from './coordinator.module.js';
export { CoordinatorState, type CoordinatorPhase } from './coordinator-state.js';
export { agentStatus, countAgents, type AgentStatus, type AgentLoad } from './agents/agent-status.js';
export { AgentRegistry, type AgentView, type NewAgent, type AgentChanges } from './agents/agent-registry.service.js';
export { TaskService, type NewTask, type SubmittedTask, type TaskFilter } from './tasks/task.service.js';
export type { TaskView, TaskCounts } from './tasks/task-views.js';

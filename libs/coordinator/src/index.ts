export { CoordinatorModule } from './coordinator.module.js';
export { CoordinatorState, type CoordinatorPhase } from './coordinator-state.js';
export { agentStatus, countAgents, type AgentStatus, type AgentLoad, type AgentCounts } from './agents/agent-status.js';
export type { AgentView } from './agents/agent-view.js';
export { AgentRegistry, type AgentRegistration, type AgentUpdate } from './agents/agent-registry.service.js';
export { AGENT_KINDS, type AgentKind } from './protocols/protocols.js';
export { inputJsonSchemas, parseTaskInput } from './operations/task-input.js';
export type * from './operations/operation-types.js';
export {
  TaskService,
  type Submitted,
  type TaskDetails,
  type TaskDetailsPage,
  type TaskSubmission,
} from './tasks/task.service.js';
export { isPublicAddress, urlHost } from './webhooks/public-address.js';
export { callbacksAllowlisted } from './webhooks/webhook-attempt.js';
export { TaskEvents, ID_STEP, type LiveEvent, type LiveEventSink } from './delivery/task-events.service.js';
export { WebhookSender } from './webhooks/webhook-sender.service.js';
export * from './errors/coordinator-errors.js';

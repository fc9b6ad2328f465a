import { InitialSchema1764403200000 } from './1764403200000-initial-schema.js';
import { ApiKeys1764489600000 } from './1764489600000-api-keys.js';
import { AgentProtocols1764979200000 } from './1764979200000-agent-protocols.js';
import { TaskDelivery1765152000000 } from './1765152000000-task-delivery.js';
import { GatewayCalls1765411200000 } from './1765411200000-gateway-calls.js';

/** Every migration, oldest first. Listed explicitly so that the app, the CLI and the tests load the same set. */
export const migrations = [
  InitialSchema1764403200000,
  ApiKeys1764489600000,
  AgentProtocols1764979200000,
  TaskDelivery1765152000000,
  GatewayCalls1765411200000,
];

import type { OperationInput } from '@hive/coordinator';
import type { GatewayDialect, TaskOperation } from '@hive/database';

/** A call as a dialect's endpoint parsed it. */
export interface GatewayCallSpec {
  dialect: GatewayDialect;
  /** The route, as hive_gateway_requests_total labels it. */
  endpoint: string;
  operation: TaskOperation;
  model: string;
  input: OperationInput['input'];
  stream: boolean;
}

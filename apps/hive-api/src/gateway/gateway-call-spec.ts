import type { GatewayCallRequest } from '@hive/coordinator';

/** A call as a dialect's endpoint parsed it: the request without Hive's own headers, and the route it came by. */
export type GatewayCallSpec = Omit<GatewayCallRequest, 'priority' | 'queueTimeoutMs'> & {
  /** The route, as hive_gateway_requests_total labels it. */
  endpoint: string;
};

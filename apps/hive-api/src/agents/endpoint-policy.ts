import { Injectable } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { HostAllowlist } from '../platform/host-allowlist.js';

/** AGENT_ENDPOINT_ALLOWLIST: where agents may point. */
@Injectable()
export class EndpointPolicy {
  private readonly allowlist: HostAllowlist;

  constructor(config: HiveConfig) {
    this.allowlist = new HostAllowlist(config.security.agentEndpointAllowlist, 'AGENT_ENDPOINT_ALLOWLIST');
  }

  /** Throws 400 when the endpoint is not allowed. */
  check(endpoint: string): void {
    this.allowlist.check(endpoint, 'endpoint');
  }
}

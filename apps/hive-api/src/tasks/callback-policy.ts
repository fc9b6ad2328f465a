import { BadRequestException, Injectable } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { HostAllowlist } from '../platform/host-allowlist.js';

/**
 * Where a task's webhook may go: WEBHOOK_ALLOWLIST, or AGENT_ENDPOINT_ALLOWLIST's rules when it is empty. Callbacks
 * need WEBHOOK_SECRET: Hive never sends an unsigned webhook.
 */
@Injectable()
export class CallbackPolicy {
  private readonly allowlist: HostAllowlist;
  private readonly signing: boolean;

  constructor(config: HiveConfig) {
    const own = config.delivery.webhookAllowlist;
    this.allowlist =
      own.length > 0
        ? new HostAllowlist(own, 'WEBHOOK_ALLOWLIST')
        : new HostAllowlist(config.security.agentEndpointAllowlist, 'AGENT_ENDPOINT_ALLOWLIST');
    this.signing = config.delivery.webhookSecret !== undefined;
  }

  /** Throws 400 when callbacks are off or `url` may not receive one; `field` names it in the message. */
  check(url: string, field: string): void {
    if (!this.signing) {
      throw new BadRequestException(`${field} needs WEBHOOK_SECRET, which this Hive does not have: callbacks are off`);
    }
    this.allowlist.check(url, field);
  }
}

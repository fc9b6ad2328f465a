import { BadRequestException, Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { HiveConfig } from '@hive/config';
import { callbacksAllowlisted, isPublicAddress, urlHost } from '@hive/coordinator';
import { HostAllowlist } from '../platform/host-allowlist.js';

/**
 * Where a task's webhook may go: WEBHOOK_ALLOWLIST, or AGENT_ENDPOINT_ALLOWLIST's rules when it is empty. With
 * neither, only the public internet: a literal private, loopback or link-local address (or localhost) is refused here,
 * and a name that resolves to one when the webhook is sent (WebhookAttempt). Callbacks need WEBHOOK_SECRET: Hive
 * never sends an unsigned webhook.
 */
@Injectable()
export class CallbackPolicy {
  private readonly allowlist: HostAllowlist;
  private readonly signing: boolean;
  private readonly publicOnly: boolean;

  constructor(config: HiveConfig) {
    const own = config.delivery.webhookAllowlist;
    this.allowlist =
      own.length > 0
        ? new HostAllowlist(own, 'WEBHOOK_ALLOWLIST')
        : new HostAllowlist(config.security.agentEndpointAllowlist, 'AGENT_ENDPOINT_ALLOWLIST');
    this.signing = config.delivery.webhookSecret !== undefined;
    this.publicOnly = !callbacksAllowlisted(config);
  }

  /** Throws 400 when callbacks are off or `url` may not receive one; `field` names it in the message. */
  check(url: string, field: string): void {
    if (!this.signing) {
      throw new BadRequestException(`${field} needs WEBHOOK_SECRET, which this Hive does not have: callbacks are off`);
    }
    this.allowlist.check(url, field);
    const host = urlHost(url);
    const local = isIP(host) === 0 ? host === 'localhost' || host.endsWith('.localhost') : !isPublicAddress(host);
    if (this.publicOnly && local) {
      throw new BadRequestException(
        `${field} host ${host} is a private, loopback or link-local address; list it in WEBHOOK_ALLOWLIST to allow it`,
      );
    }
  }
}

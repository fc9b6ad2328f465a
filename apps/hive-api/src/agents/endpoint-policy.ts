import { BadRequestException, Injectable } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import { HiveConfig } from '@hive/config';

/**
 * AGENT_ENDPOINT_ALLOWLIST: where agents may point, so that a stolen key cannot aim Hive at internal services.
 * Host names must match an entry (or a *.domain pattern); IP addresses must fall in a listed address or CIDR
 * block. Names are not resolved: DNS could answer differently later.
 */
@Injectable()
export class EndpointPolicy {
  private readonly hosts: string[] = [];
  private readonly addresses = new BlockList();
  private readonly enabled: boolean;

  constructor(config: HiveConfig) {
    const entries = config.security.agentEndpointAllowlist;
    this.enabled = entries.length > 0;
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) this.hosts.push(entry);
      else if (bits === undefined) this.addresses.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
      else this.addresses.addSubnet(address, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Throws 400 when the endpoint is not allowed. */
  check(endpoint: string): void {
    if (!this.enabled) return;
    const host = new URL(endpoint).hostname.toLowerCase().replace(/^\[|\]$/g, '');
    const family = isIP(host);
    const allowed =
      family === 0
        ? this.hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))))
        : this.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    if (!allowed) throw new BadRequestException(`endpoint host ${host} is not in AGENT_ENDPOINT_ALLOWLIST`);
  }
}

import { BadRequestException } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import { urlHost } from '@hive/coordinator';

/**
 * Where Hive may be told to send requests, so that a stolen key cannot aim it at internal services. Host names must
 * match an entry (or a *.domain pattern); IP addresses must fall in a listed address or CIDR block. Names are not
 * resolved: DNS could answer differently later. An empty list allows every host.
 */
export class HostAllowlist {
  private readonly hosts: string[] = [];
  private readonly addresses = new BlockList();
  private readonly enabled: boolean;

  /** `setting` names the list in refusals (e.g. AGENT_ENDPOINT_ALLOWLIST). */
  constructor(
    entries: readonly string[],
    private readonly setting: string,
  ) {
    this.enabled = entries.length > 0;
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) this.hosts.push(entry);
      else if (bits === undefined) this.addresses.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
      else this.addresses.addSubnet(address, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Throws 400 naming `field` when the URL's host is not allowed. */
  check(url: string, field: string): void {
    if (!this.enabled) return;
    const host = urlHost(url);
    const family = isIP(host);
    const allowed =
      family === 0
        ? this.hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))))
        : this.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    if (!allowed) throw new BadRequestException(`${field} host ${host} is not in ${this.setting}`);
  }
}

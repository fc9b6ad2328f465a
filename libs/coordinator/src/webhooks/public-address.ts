import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Addresses that are not the public internet: this host, private networks, link-local (cloud metadata), multicast. */
const NOT_PUBLIC = new BlockList();
for (const [network, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC.addSubnet(network, bits, 'ipv4');
}
for (const [network, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, bits, 'ipv6');
}

/** A URL's host as allowlists and address checks read it: lower-case, an IPv6 address without its brackets. */
export const urlHost = (url: string): string => new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');

/** Whether an IP address is on the public internet (an IPv4-mapped IPv6 address is judged by its IPv4 address). */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare)?.[1];
  if (mapped !== undefined) return isPublicAddress(mapped);
  const family = isIP(bare);
  return family !== 0 && !NOT_PUBLIC.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/** A webhook's host is not on the public internet, and no allowlist names it. */
export class PrivateAddressError extends Error {
  constructor() {
    super(
      'the callback host is a private, loopback or link-local address, which Hive does not call unless ' +
        'WEBHOOK_ALLOWLIST (or AGENT_ENDPOINT_ALLOWLIST) lists it',
    );
    this.name = 'PrivateAddressError';
  }
}

/**
 * The DNS lookup of webhook requests when no allowlist names the receivers: a name that resolves to an address off
 * the public internet is refused as the connection is made, whatever it resolved to when the task was submitted.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, options, (error, address, family) => {
    if (error !== null) {
      callback(error, address, family);
      return;
    }
    const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
    if (addresses.every(isPublicAddress)) callback(null, address, family);
    else callback(Object.assign(new PrivateAddressError(), { code: 'EPRIVATE' }), address, family);
  });
};

/**
 * Which addresses a worker's outbound fetch may connect to. By default none on the host's own network:
 * loopback, private, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), carrier-grade NAT,
 * multicast, reserved, and IPv4 embedded in IPv6 (mapped, NAT64) is checked as IPv4. A per-worker
 * allowlist of host names and addresses opens exceptions. The check is on the resolved address, so a
 * host name that resolves to 127.0.0.1 is refused too.
 */
import { BlockList, isIP } from 'node:net';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
];

const blocked = new BlockList();
for (const [network, prefix] of BLOCKED_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of BLOCKED_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedV4(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return null;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True when `address` (an IP literal) is on a network outbound fetch must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedV4(address.toLowerCase());
  return v4 !== null ? blocked.check(v4, 'ipv4') : blocked.check(address, 'ipv6');
}

export interface EgressPolicy {
  /** May the worker connect to `address`, which `hostname` resolved to? */
  allows(hostname: string, address: string): boolean;
}

/** The default policy, with a worker's allowlist (host names, lower-case, or IP addresses). */
export function egressPolicy(allowlist: readonly string[] = []): EgressPolicy {
  const allowed = new Set(allowlist.map((entry) => entry.toLowerCase()));
  return {
    allows: (hostname, address) => allowed.has(hostname.toLowerCase()) || allowed.has(address) || !isBlockedAddress(address),
  };
}

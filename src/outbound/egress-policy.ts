/**
 * Which addresses a worker's outbound fetch may connect to. By default none on the host's own network:
 * loopback, private, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), carrier-grade NAT,
 * multicast, and the other ranges IANA's special-purpose registries mark as not globally reachable. IPv4
 * carried inside IPv6 (mapped, NAT64, 6to4) is checked as IPv4. A per-worker allowlist of host names and
 * addresses opens exceptions. The check is on the resolved address, so a host name that resolves to
 * 127.0.0.1 is refused too.
 */
import { BlockList, isIP } from 'node:net';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  // ::/96 holds :: and ::1 and the deprecated IPv4-compatible form (::127.0.0.1); ::ffff:0:0:0/96 is SIIT.
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b:1::', 48], ['100::', 64], ['100:0:0:1::', 64],
  // Teredo, benchmarking, documentation (old and new), segment routing, unique local, link-local,
  // site-local (deprecated, still routed by some networks), multicast.
  ['2001::', 32], ['2001:2::', 48], ['2001:db8::', 32], ['3fff::', 20], ['5f00::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
];

const blocked = new BlockList();
for (const [network, prefix] of BLOCKED_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of BLOCKED_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** The eight 16-bit groups of an IPv6 literal without its zone (any spelling: `::`, a dotted IPv4 tail). */
function groupsOf(text: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const hex = dotted ? `${text.slice(0, dotted.index)}${((+dotted[1]! << 8) | +dotted[2]!).toString(16)}:${((+dotted[3]! << 8) | +dotted[4]!).toString(16)}` : text;
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/** The IPv4 address an IPv6 address carries and is delivered to: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
function embeddedV4(groups: number[]): string | null {
  const zerosThen = (n: number) => groups.slice(0, n).every((group) => group === 0);
  if (zerosThen(5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return null;
}

/** True when `address` (an IP literal) is on a network outbound fetch must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const [withoutZone] = address.split('%') as [string];
  const inner = embeddedV4(groupsOf(withoutZone));
  return inner !== null ? blocked.check(inner, 'ipv4') : blocked.check(withoutZone, 'ipv6');
}

export interface EgressPolicy {
  /** May the worker connect to `address` on `port`, which `hostname` resolved to? */
  allows(hostname: string, address: string, port: number): boolean;
  /** Does the allowlist name `hostname` (on any port)? */
  names(hostname: string): boolean;
}

/** An allowlist entry: a host name or an IP address, optionally with a port (`name:5432`, `[::1]:8080`). */
const ALLOW_ENTRY = /^(?:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\d+\.\d+\.\d+\.\d+)|\[([0-9a-f:.]+)\])(?::(\d{1,5}))?$|^([0-9a-f:.]*:[0-9a-f:.]*)$/;

/** An allowlist entry in canonical form (lower case, IPv6 without brackets), or null if it is not one. */
export function parseAllowEntry(entry: string): { host: string; port: number | null } | null {
  if (entry.length > 261) return null;
  const match = ALLOW_ENTRY.exec(entry.toLowerCase());
  if (!match) return null;
  const host = match[1] ?? match[2] ?? match[4]!;
  const port = match[3] === undefined ? null : Number(match[3]);
  if ((match[2] !== undefined || match[4] !== undefined) && isIP(host) !== 6) return null;
  if (/^[\d.]+$/.test(host) && isIP(host) !== 4) return null;
  if (host.length > 253 || (port !== null && (port < 1 || port > 65535))) return null;
  return { host, port };
}

/**
 * The default policy, with a worker's allowlist (entries as `parseAllowEntry` reads them; one without a
 * port opens every port of that host, which for `localhost` includes this server's own).
 */
export function egressPolicy(allowlist: readonly string[] = []): EgressPolicy {
  const anyPort = new Set<string>();
  const onPort = new Set<string>();
  for (const text of allowlist) {
    const entry = parseAllowEntry(text);
    if (entry === null) continue;
    if (entry.port === null) anyPort.add(entry.host);
    else onPort.add(`${entry.host} ${entry.port}`);
  }
  const listed = (host: string, port: number) => anyPort.has(host) || onPort.has(`${host} ${port}`);
  const named = new Set([...anyPort, ...[...onPort].map((entry) => entry.slice(0, entry.lastIndexOf(' ')))]);
  return {
    allows: (hostname, address, port) => listed(hostname.toLowerCase(), port) || listed(address.toLowerCase(), port) || !isBlockedAddress(address),
    names: (hostname) => named.has(hostname.toLowerCase()),
  };
}

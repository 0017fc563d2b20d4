/**
 * How outbound fetch turns a host name into addresses. Three kinds of name, three answers:
 * - `localhost` and names under it are loopback (RFC 6761), with no query: the policy then decides.
 * - A name the allowlist names (the operator's, or a deploy's `fetch_allow`: a token holder's choice)
 *   goes to the system's resolver, which knows the hosts file and the host's own naming.
 * - Any other name, a tenant's choice, is sent as DNS queries from the event loop (c-ares: node:dns's
 *   Resolver). The system's resolver (getaddrinfo) runs on libuv's thread pool, four threads for the
 *   whole process: a tenant fetching names whose DNS server never answers held each of them for the
 *   lookup's timeout, and every other tenant's lookups queued behind them.
 */
import { lookup, Resolver } from 'node:dns/promises';

export type ResolveName = (hostname: string) => Promise<string[]>;

export interface QueryResolverOptions {
  /** DNS servers (`address` or `address:port`); the system's (resolv.conf) when absent. */
  servers?: string[];
  /** Per attempt. */
  timeoutMs?: number;
  tries?: number;
}

/** Resolves with A and AAAA queries at once, IPv4 addresses first; fails only when neither has one. */
export function queryResolver(options: QueryResolverOptions = {}): ResolveName {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2500, tries: options.tries ?? 2 });
  if (options.servers) resolver.setServers(options.servers);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (addresses.length > 0) return addresses;
    throw v4.status === 'rejected' ? v4.reason : (v6 as PromiseRejectedResult).reason;
  };
}

/** The system's resolver: hosts file, nsswitch, resolv.conf's search domains. On libuv's thread pool. */
export const systemResolver: ResolveName = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** `localhost` and `*.localhost`: loopback by definition (RFC 6761 §6.3), whatever a resolver says. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

export const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1'];

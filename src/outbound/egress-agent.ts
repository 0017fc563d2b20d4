/**
 * The undici Agent outbound fetch goes through. Its connector resolves the host name itself
 * (name-resolution.ts), checks every address against the egress policy and connects to an allowed one by
 * address (keeping the host name for TLS SNI and the Host header), so a DNS answer cannot switch the
 * address between check and connect.
 */
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { IsolaneError } from '../errors.ts';
import type { EgressPolicy } from './egress-policy.ts';
import { isLocalhostName, LOOPBACK_ADDRESSES, queryResolver, systemResolver, type ResolveName } from './name-resolution.ts';

export interface EgressAgentOptions {
  policy: EgressPolicy;
  /** Connect timeout. */
  connectTimeoutMs?: number;
  /** Resolves the names a worker chose (default: DNS queries from the event loop). */
  resolve?: ResolveName;
  /** Resolves the names the allowlist names (default: the system's resolver). */
  resolveListed?: ResolveName;
}

/** One for the process. */
let sharedQueryResolver: ResolveName | null = null;

export function createEgressAgent(options: EgressAgentOptions): Agent {
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  const resolve = options.resolve ?? (sharedQueryResolver ??= queryResolver());
  const resolveListed = options.resolveListed ?? systemResolver;
  const addressesOf = (hostname: string): Promise<string[]> => {
    if (isIP(hostname)) return Promise.resolve([hostname]);
    if (isLocalhostName(hostname)) return Promise.resolve(LOOPBACK_ADDRESSES);
    return options.policy.names(hostname) ? resolveListed(hostname) : resolve(hostname);
  };
  const connectTo = buildConnector({ timeout: connectTimeout });

  return new Agent({
    connect(connectOptions, callback) {
      const hostname = connectOptions.hostname.replace(/^\[|\]$/g, '');
      const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
      addressesOf(hostname).then(
        (list) => {
          const address = list.find((candidate) => options.policy.allows(hostname, candidate, port));
          if (address === undefined) {
            // Without the addresses: they would let a tenant map the host's DNS (hosts-file and cluster names).
            callback(new IsolaneError('ISO_ERR_FETCH_BLOCKED', `fetch to ${hostname} is not allowed: it is on the host's own network`), null);
            return;
          }
          connectTo({ ...connectOptions, hostname: address, servername: connectOptions.servername ?? (isIP(hostname) ? undefined : hostname) }, callback);
        },
        (err: Error) => callback(err, null),
      );
    },
  });
}

/**
 * The undici Agent outbound fetch goes through. Its connector resolves the host name itself, checks every
 * address against the egress policy and connects to an allowed one by address (keeping the host name
 * for TLS SNI and the Host header), so a DNS answer cannot switch the address between check and connect.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { IsolaneError } from '../errors.ts';
import type { EgressPolicy } from './egress-policy.ts';

export interface EgressAgentOptions {
  policy: EgressPolicy;
  /** Connect timeout. */
  connectTimeoutMs?: number;
  /** Resolver, for tests. */
  resolve?: (hostname: string) => Promise<string[]>;
}

const resolveAll = async (hostname: string) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export function createEgressAgent(options: EgressAgentOptions): Agent {
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  const resolve = options.resolve ?? resolveAll;
  const connectTo = buildConnector({ timeout: connectTimeout });

  return new Agent({
    connect(connectOptions, callback) {
      const hostname = connectOptions.hostname.replace(/^\[|\]$/g, '');
      const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
      const addresses = isIP(hostname) ? Promise.resolve([hostname]) : resolve(hostname);
      addresses.then(
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

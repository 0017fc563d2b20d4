/**
 * Service bindings (`env.AUTH.fetch(request)` reaching the worker named in the binding) go through the
 * data plane like any request, over loopback HTTP from the caller's executor: the callee gets the same
 * routing to its active version, admission, limits, streaming and record as a client's request. One
 * header marks such a call and names the worker, the URL it sees and how deep the chain of calls is.
 * The data plane believes it only with the server's own token, made at start and known to no tenant,
 * and removes it before any worker sees it; a client that sends it is routed as if it had not.
 */
import { timingSafeEqual } from 'node:crypto';
import { isWorkerName } from '../store/worker-name.ts';

export const SERVICE_CALL_HEADER = 'x-isolane-service-call';

/** Calls through service bindings one request may chain (Workers refuse a chain past 32 subrequests deep). */
export const MAX_SERVICE_DEPTH = 16;

export interface ServiceCall {
  worker: string;
  /** 1 for a call from a client's request, 2 for a call from that one, … */
  depth: number;
  /** The URL the callee's request has: the one the caller fetched. */
  url: string;
}

/** How an executor reaches the data plane for service calls. */
export interface ServiceCalls {
  /** The data plane on loopback, e.g. http://127.0.0.1:8080 */
  origin: string;
  token: string;
}

export function serviceCallHeader(token: string, call: ServiceCall): string {
  return `${token} ${call.depth} ${call.worker} ${call.url}`;
}

/** The call the header describes, or null when there is none or it does not carry `token`. */
export function serviceCallOf(value: string | string[] | undefined, token: string | null): ServiceCall | null {
  if (token === null || typeof value !== 'string') return null;
  const [given = '', depth = '', worker = '', url = ''] = value.split(' ');
  const expected = Buffer.from(token);
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  const parsed = URL.parse(url);
  if (!isWorkerName(worker) || !/^[1-9][0-9]{0,3}$/.test(depth) || parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return null;
  return { worker, depth: Number(depth), url: parsed.href };
}

/** The data plane's address for its own executors: a wildcard listening address is reached on loopback. */
export function loopbackOrigin(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

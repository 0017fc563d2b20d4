/**
 * Service bindings (`env.AUTH.fetch(request)` reaching the worker named in the binding) go through the
 * data plane like any request, over loopback HTTP from the caller's executor: the callee gets the same
 * routing to its active version, admission, limits, streaming and record as a client's request. One
 * header marks such a call and names the worker, the URL it sees and how deep the chain of calls is.
 * The data plane believes it only with the server's own token, made at start and known to no tenant,
 * and removes it before any worker sees it; a client that sends it is routed as if it had not.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { isWorkerName } from '../store/worker-name.ts';

export const SERVICE_CALL_HEADER = 'x-isolane-service-call';

/** Calls through service bindings one request may chain (Workers refuse a chain past 32 subrequests deep). */
export const MAX_SERVICE_DEPTH = 16;

/**
 * Calls one client request's whole tree of service-binding calls may make, counted in each serving
 * process (so at most this many times the processes): without it, 50 subrequests an invocation over
 * 16 levels let one request fan out into thousands of invocations (a review measured 16,369).
 */
export const MAX_SERVICE_CALLS_PER_REQUEST = 64;

export interface ServiceCall {
  worker: string;
  /** 1 for a call from a client's request, 2 for a call from that one, … */
  depth: number;
  /** The request id of the client's request the chain started from: its calls share one budget. */
  root: string;
  /** The URL the callee's request has: the one the caller fetched (without a fragment, as any request's). */
  url: string;
}

/** How an executor reaches the data plane for service calls. */
export interface ServiceCalls {
  /** The data plane on loopback, e.g. http://127.0.0.1:8080 */
  origin: string;
  token: string;
}

export function serviceCallHeader(token: string, call: ServiceCall): string {
  return `${token} ${call.depth} ${call.root} ${call.worker} ${call.url}`;
}

/** The URL a service binding's fetch() may send: http(s) only, as the callee's request must have one. */
export function serviceCallUrl(url: string): string | null {
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return null;
  parsed.hash = '';
  return parsed.href;
}

/**
 * The call the header describes; null when there is no header or it does not carry `token` (a client's:
 * routed as if it had not sent it); 'invalid' when it carries the token and is not a call this server
 * makes (refused, never routed as a client's request).
 */
export function serviceCallOf(value: string | string[] | undefined, token: string | null): ServiceCall | 'invalid' | null {
  if (token === null || typeof value !== 'string') return null;
  const [given = '', depth = '', root = '', worker = '', url = '', ...rest] = value.split(' ');
  const expected = Buffer.from(token);
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  const href = serviceCallUrl(url);
  if (rest.length > 0 || !isWorkerName(worker) || !/^[1-9][0-9]{0,3}$/.test(depth) || !/^[0-9a-f-]{36}$/.test(root) || href === null) return 'invalid';
  return { worker, depth: Number(depth), root, url: href };
}

/**
 * How many calls each client request's tree has made through this process, over the last one to two
 * minutes (longer than any request's wall time): two generations, the older dropped each minute.
 */
export class ServiceCallBudget {
  #current = new Map<string, number>();
  #previous = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(generationMs = 60_000) {
    this.#timer = setInterval(() => {
      this.#previous = this.#current;
      this.#current = new Map();
    }, generationMs);
    this.#timer.unref();
  }

  /** Counts one more call of `root`'s tree; false once it has made MAX_SERVICE_CALLS_PER_REQUEST. */
  spend(root: string): boolean {
    const spent = (this.#current.get(root) ?? 0) + (this.#previous.get(root) ?? 0);
    if (spent >= MAX_SERVICE_CALLS_PER_REQUEST) return false;
    this.#current.set(root, (this.#current.get(root) ?? 0) + 1);
    return true;
  }
}

/**
 * The data plane's address for its own executors. A wildcard is reached on loopback; a host name too,
 * rather than wherever the name resolves (the header carries the token in clear).
 */
export function loopbackOrigin(host: string, port: number): string {
  if (isIP(host) === 4 && host !== '0.0.0.0') return `http://${host}:${port}`;
  if (isIP(host) === 6 && host !== '::') return `http://[${host}]:${port}`;
  return host === '::' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;
}

/**
 * Route patterns, `host/path`, with Cloudflare's rules:
 * - `*` only as the first character of the host and the last character of the path.
 * - `*.example.com` matches subdomains only; `*example.com` matches `example.com` and its subdomains.
 *   Wildcards cover whole labels: `*example.com` does NOT match `badexample.com`. Cloudflare documents
 *   "the host and all subhosts", and there a route cannot reach another zone anyway; here tenants share one
 *   server, so a glob reading would let `*example.com` capture someone else's `badexample.com`.
 *   `*-api.example.com` (part of a label) is rejected for the same reason.
 * - `*` alone is a catch-all host (Cloudflare has none): the least specific of all.
 * - No scheme, port, query string or fragment. Hosts are case-insensitive (stored lower-case, IDN as
 *   punycode, trailing dot dropped); paths are case-sensitive and percent-encoded as in a URL's pathname.
 * - `host` without a path means `host/*` here (Cloudflare implies `host/`, the root only).
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { IsolaneError } from '../errors.ts';

export type HostMatch = 'exact' | 'subdomains' | 'self-and-subdomains';

export interface RoutePattern {
  /** Canonical text: equal patterns have equal text. */
  pattern: string;
  /** The fixed part of the host: lower-case, no `*`, no leading dot; '' for the catch-all `*`. */
  host: string;
  /** `exact` for `example.com`, `subdomains` for `*.example.com`, `self-and-subdomains` for `*example.com`. */
  hostMatch: HostMatch;
  /** The fixed part of the path, starting with `/`. */
  pathPrefix: string;
  /** True when the path ended with `*`: any path starting with `pathPrefix` matches. */
  pathWildcard: boolean;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const FORBIDDEN = /[\s\x00-\x1f\x7f]/;
const LABEL = /^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]{0,61}[a-z0-9_])$/;
const MAX_HOST_LENGTH = 253;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
// The WHATWG path percent-encode set, minus what is rejected earlier (controls, space, `?`, `#`).
const PATH_ENCODE = /["<>`{}]|[^\x00-\x7f]+/g;

function invalid(pattern: string, rule: string): IsolaneError {
  return new IsolaneError('ISO_ERR_ROUTE_INVALID', `invalid route pattern ${JSON.stringify(pattern)}: ${rule}`, {
    details: { pattern },
  });
}

export function parseRoutePattern(pattern: string): RoutePattern {
  if (typeof pattern !== 'string') throw invalid(String(pattern), 'it is not a string');
  if (pattern.length === 0) throw invalid(pattern, 'it is empty');
  if (pattern.length > 2048) throw invalid(pattern.slice(0, 64), 'it is longer than 2048 characters');
  if (SCHEME.test(pattern)) throw invalid(pattern, 'leave out the scheme (http:// or https://)');
  if (FORBIDDEN.test(pattern)) throw invalid(pattern, 'it contains whitespace or control characters');
  if (pattern.includes('?')) throw invalid(pattern, 'a route pattern cannot contain a query string');
  if (pattern.includes('#')) throw invalid(pattern, 'a route pattern cannot contain a fragment');

  const slash = pattern.indexOf('/');
  const hostText = slash === -1 ? pattern : pattern.slice(0, slash);
  const pathText = slash === -1 ? '/*' : pattern.slice(slash);
  const { host, hostMatch } = parseHost(pattern, hostText);
  const { pathPrefix, pathWildcard } = parsePath(pattern, pathText);

  const hostPart = hostMatch === 'exact' ? host : hostMatch === 'subdomains' ? `*.${host}` : `*${host}`;
  const pathPart = pathWildcard ? `${pathPrefix}*` : pathPrefix;
  return { pattern: hostPart + pathPart, host, hostMatch, pathPrefix, pathWildcard };
}

function parseHost(pattern: string, text: string): { host: string; hostMatch: HostMatch } {
  if (text.length === 0) throw invalid(pattern, 'the host is missing');
  if (text.indexOf('*', 1) !== -1) throw invalid(pattern, '`*` is allowed only as the first character of the host');

  if (text.startsWith('[')) return { host: parseIpv6(pattern, text), hostMatch: 'exact' };

  let hostMatch: HostMatch = 'exact';
  let rest = text;
  if (text.startsWith('*.')) {
    hostMatch = 'subdomains';
    rest = text.slice(2);
    if (rest.length === 0) throw invalid(pattern, '`*.` needs a domain after it');
  } else if (text.startsWith('*')) {
    hostMatch = 'self-and-subdomains';
    rest = text.slice(1);
    if (rest.length === 0) return { host: '', hostMatch };
    if (rest.startsWith('-') || rest.startsWith('[')) {
      throw invalid(pattern, 'a host wildcard covers whole labels: write `*.example.com` or `*example.com`');
    }
  }
  if (rest.includes(':')) throw invalid(pattern, 'a route pattern cannot contain a port');
  return { host: normalizeDomain(pattern, rest), hostMatch };
}

function normalizeDomain(pattern: string, text: string): string {
  let host = text.endsWith('.') ? text.slice(0, -1) : text;
  // Hosts arrive from clients as punycode; compare like with like.
  host = /^[\x00-\x7f]*$/.test(host) ? host.toLowerCase() : domainToASCII(host);
  if (host.length === 0 || host.length > MAX_HOST_LENGTH) throw invalid(pattern, 'the host is not a valid domain name');
  for (const label of host.split('.')) {
    if (!LABEL.test(label)) throw invalid(pattern, `the host label ${JSON.stringify(label)} is not valid`);
  }
  return host;
}

function parseIpv6(pattern: string, text: string): string {
  const end = text.indexOf(']');
  if (end === -1) throw invalid(pattern, 'the IPv6 address has no closing `]`');
  if (end !== text.length - 1) throw invalid(pattern, 'a route pattern cannot contain a port');
  if (!isIPv6(text.slice(1, end))) throw invalid(pattern, 'the IPv6 address is not valid');
  // The URL parser gives the canonical (compressed, lower-case) form, as normalizeHost does for requests.
  return new URL(`http://${text}/`).hostname;
}

function parsePath(pattern: string, text: string): { pathPrefix: string; pathWildcard: boolean } {
  const star = text.indexOf('*');
  if (star !== -1 && star !== text.length - 1) {
    throw invalid(pattern, '`*` is allowed only as the last character of the path');
  }
  if (text.includes('\\')) throw invalid(pattern, 'use `/`, not `\\`, in the path');
  const pathWildcard = star !== -1;
  const fixed = pathWildcard ? text.slice(0, -1) : text;
  // Request paths are URL pathnames, where dot segments are already resolved: such a pattern never matches.
  const segments = fixed.split('/');
  const whole = pathWildcard ? segments.slice(0, -1) : segments;
  if (whole.some((segment) => DOT_SEGMENT.test(segment))) {
    throw invalid(pattern, 'the path cannot contain `.` or `..` segments');
  }
  return { pathPrefix: percentEncodePath(pattern, fixed), pathWildcard };
}

/** Encode what the URL parser encodes in a pathname, character by character so a prefix stays a prefix. */
function percentEncodePath(pattern: string, path: string): string {
  try {
    return path.replace(PATH_ENCODE, (chars) => encodeURIComponent(chars));
  } catch {
    throw invalid(pattern, 'the path is not valid Unicode');
  }
}

/**
 * The worker whose own subdomain (`<name>.<workersDomain>`, served for every worker: live-deployments.ts)
 * `route` names as its host, or null. Explicit routes win ties with those, so a route of another
 * worker's on that host would take its traffic: deploys and PUT /v1/routes refuse it.
 */
export function subdomainOwner(route: RoutePattern, workersDomain: string | null): string | null {
  if (!workersDomain || route.hostMatch === 'subdomains') return null;
  const suffix = `.${workersDomain}`;
  if (!route.host.endsWith(suffix)) return null;
  const label = route.host.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.') ? label : null;
}

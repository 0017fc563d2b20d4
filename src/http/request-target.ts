/**
 * A request's Host header and request-target → the URL its worker sees and the host and path it is
 * routed by. They are one parse, so they cannot disagree: routing on the raw target while the worker's
 * URL parser resolved it let `/api/../admin` reach the `/api/*` worker as `/admin`, and a Host header
 * of `a.localhost:@b.test` reach worker a with a URL whose host was b.test.
 */
import type { ErrorCode } from '../errors.ts';
import { normalizeHost } from '../routing/normalize-host.ts';

/**
 * RFC 9110 §7.2: a DNS name (labels of at most 63 letters, digits, hyphens or underscores) or an IP
 * literal, then an optional port. Percent-encoding and the other reg-name characters are refused: no
 * route names them, and the URL parser would decode them into another host.
 */
const HOST_HEADER = /^(?:[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;
/**
 * A name of at most 253 characters (RFC 1035), a trailing dot and a port. Also what keeps matching
 * cheap: the route table looks up every suffix of the host.
 */
const MAX_HOST_HEADER_CHARS = 253 + 1 + 6;

export interface RoutedTarget {
  /** The absolute URL the worker's `request.url` is: canonical, without a fragment. */
  url: string;
  /** The host as route patterns have it (normalize-host.ts). */
  host: string;
  /** The URL's path, dot segments resolved, as route patterns match it. */
  path: string;
  /** For the absolute form, the host the worker's Host header must say (its target's); else null. */
  absoluteHost: string | null;
}

export type TargetError = { error: ErrorCode; message?: string };

export function requestTarget(hostHeader: string | undefined, target: string): RoutedTarget | TargetError {
  let url: URL;
  if (target.charCodeAt(0) === 0x2f /* / */) {
    if (hostHeader === undefined || hostHeader === '') return { error: 'ISO_ERR_HTTP_HOST_MISSING' };
    if (!validHost(hostHeader)) return { error: 'ISO_ERR_HTTP_HOST_INVALID', message: `the Host header ${JSON.stringify(hostHeader.slice(0, 300))} is not a host name or an IP address with an optional port` };
    const plain = plainTarget(hostHeader, target);
    if (plain !== null) return plain;
    const parsed = URL.parse(`http://${hostHeader}${target}`);
    if (parsed === null) return { error: 'ISO_ERR_HTTP_TARGET_INVALID' };
    url = parsed;
  } else {
    // The absolute form (RFC 9112 §3.2.2): its authority is the host, and the Host header is ignored.
    const parsed = /^https?:\/\//i.test(target) ? URL.parse(target) : null;
    // Credentials in a request-target have no meaning (RFC 9112 section 3.2.2), and a URL that holds them makes new Request() throw.
    if (parsed === null || !validHost(parsed.host) || parsed.username !== '' || parsed.password !== '') return { error: 'ISO_ERR_HTTP_TARGET_INVALID' };
    url = parsed;
  }
  const host = normalizeHost(url.host);
  if (host === null) return { error: 'ISO_ERR_HTTP_HOST_INVALID' };
  // A request-target has no fragment; a `#` in one is not the worker's to read.
  if (url.hash !== '' || url.href.endsWith('#')) url.hash = '';
  return { url: url.href, host, path: url.pathname, absoluteHost: target.charCodeAt(0) === 0x2f ? null : url.host };
}

/**
 * A lowercase DNS name whose last label starts with a letter (so not an IPv4 address to the URL parser),
 * no label starting `xn--` (IDNA checks those), no trailing dot; then a port without leading zeros.
 */
const PLAIN_HOST = /^(?:(?!xn--)[a-z0-9_-]+\.)*(?!xn--)[a-z][a-z0-9_-]*(?::([1-9][0-9]{0,4}))?$/;
/**
 * A path and query the URL parser leaves as they are: characters no percent-encode set of a special URL
 * holds (no `%`, whose `%2e` is a dot segment; no `\`, `'`, `^`, `|`, brackets or braces), and no dot
 * segment (nor any `/.`, to keep the check simple).
 */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/;

/**
 * Most requests: a plain Host and target, whose URL the WHATWG parser would give back as it is but for
 * a default port. Built without the parser (~0.6 µs of each request); anything else takes the parser.
 * test/http/request-target.test.ts holds both to the parser's answer.
 */
function plainTarget(hostHeader: string, target: string): RoutedTarget | null {
  const host = PLAIN_HOST.exec(hostHeader);
  if (host === null || !PLAIN_PATH.test(target) || target.includes('/.')) return null;
  const port = host[1];
  const name = port === undefined ? hostHeader : hostHeader.slice(0, -port.length - 1);
  const query = target.indexOf('?');
  return {
    url: port === undefined || port === '80' ? `http://${name}${target}` : `http://${hostHeader}${target}`,
    host: name,
    path: query === -1 ? target : target.slice(0, query),
    absoluteHost: null,
  };
}

function validHost(value: string): boolean {
  if (value.length > MAX_HOST_HEADER_CHARS) return false;
  const match = HOST_HEADER.exec(value);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

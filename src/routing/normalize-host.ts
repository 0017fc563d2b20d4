/**
 * A request's Host header → the form route patterns use: lower-case, no port, no trailing dot,
 * IPv6 literals in canonical brackets. Returns null for a host no pattern can match.
 */
export function normalizeHost(hostHeader: string): string | null {
  if (hostHeader.length === 0) return null;
  if (hostHeader.charCodeAt(0) === 0x5b /* [ */) return normalizeIpv6(hostHeader);

  const colon = hostHeader.lastIndexOf(':');
  let host = colon === -1 ? hostHeader : hostHeader.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  // Empty labels would let `*.example.com` match `.example.com`.
  if (host.length === 0 || host.charCodeAt(0) === 0x2e /* . */ || host.includes('..')) return null;
  return host.toLowerCase();
}

// Rare on the request path, so the URL parser may do the canonicalising (`[0:0::1]` → `[::1]`).
function normalizeIpv6(hostHeader: string): string | null {
  const end = hostHeader.indexOf(']');
  if (end === -1) return null;
  const rest = hostHeader.slice(end + 1);
  if (rest.length > 0 && !/^:\d*$/.test(rest)) return null;
  try {
    return new URL(`http://${hostHeader.slice(0, end + 1)}/`).hostname;
  } catch {
    return null;
  }
}

/**
 * The header list Isolane sends for a worker's response. Framing is the host's job: the worker's
 * Content-Length, Transfer-Encoding and connection-level headers are dropped and Content-Length is set
 * from the body actually sent; a streamed body (`bodyBytes` null) goes out chunked.
 */
const HOST_OWNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export function responseHead(list: string[], status: number, bodyBytes: number | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    if (!HOST_OWNED.has(list[i]!)) out.push(list[i]!, list[i + 1]!);
  }
  // No body is allowed for 1xx, 204 and 304 (RFC 9110 §8.6): no length either.
  if (bodyBytes !== null && status >= 200 && status !== 204 && status !== 304) out.push('content-length', String(bodyBytes));
  return out;
}

/**
 * The Cache API's storage (`caches.default`, `caches.open(name)`; runtime/workers/cache.ts): responses
 * kept in this executor's memory, per worker and cache name, keyed by URL. As on Cloudflare, what is
 * stored and for how long follows the response's own headers (Cloudflare's rules, applied here because
 * the runtime that sends them may be subverted):
 * - not stored: `Cache-Control: no-store`, `no-cache`, `private` (but `private=set-cookie` stores the
 *   response without its Set-Cookie), a Set-Cookie otherwise, `max-age=0`, an `Expires` in the past;
 * - for `s-maxage`, else `max-age`, else until `Expires`, else Cloudflare's default edge TTL by status
 *   (200 and 301: 120 minutes, 302 and 303: 20, 404 and 410: 3; any other status is not stored).
 *
 * Every executor (a serving thread, an offload thread) has its own: like Cloudflare's per data center
 * cache, a worker may miss what another thread stored. Bounded: MAX_TOTAL_BYTES in all, least recently
 * used first out; entries over MAX_ENTRY_BYTES are not stored. A deleted worker's entries go with it.
 */
import { LRUCache } from 'lru-cache';

/** All entries of one executor together. */
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** One response: headers and body. */
export const MAX_ENTRY_BYTES = 8 * 1024 * 1024;
/**
 * What an entry costs besides its bytes: the cache's own records of it, the response object, the body's
 * ArrayBuffer and its backing store: ~350 bytes of heap (test/isolates/worker-caches.test.ts measures
 * it). Counted as 64, a review stored 1.3 million empty responses within the 64 MiB, and the serving
 * process grew by 600 MB.
 */
const ENTRY_OVERHEAD_BYTES = 512;
const MAX_URL_CHARS = 16 * 1024;
const MAX_CACHE_NAME_CHARS = 1024;

/** Cloudflare's edge TTL for a response without caching headers, by status (seconds). */
const DEFAULT_TTL_SECONDS: Record<number, number> = { 200: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180 };

export interface CachedResponse {
  status: number;
  /** HeaderLines (runtime/host.d.ts). */
  headers: string;
  body: ArrayBuffer;
}

export class WorkerCaches {
  readonly #entries = new LRUCache<string, CachedResponse>({
    maxSize: MAX_TOTAL_BYTES,
    sizeCalculation: (entry, key) => entry.body.byteLength + entry.headers.length * 2 + key.length * 2 + ENTRY_OVERHEAD_BYTES,
    // Expired entries are dropped when looked up, and pushed out by newer ones when space is short.
    ttlAutopurge: false,
  });

  /** Stores `response` under `url` if its headers allow it; false when it was not stored. */
  put(worker: string, cache: string, url: string, response: CachedResponse, now = Date.now()): boolean {
    if (!validKey(cache, url) || !Number.isInteger(response.status) || response.status < 200 || response.status > 599) return false;
    const stored = storable(response, now);
    if (stored === null || stored.response.body.byteLength + stored.response.headers.length * 2 > MAX_ENTRY_BYTES) return false;
    this.#entries.set(keyOf(worker, cache, url), stored.response, { ttl: stored.ttlMs });
    return true;
  }

  match(worker: string, cache: string, url: string): CachedResponse | null {
    if (!validKey(cache, url)) return null;
    return this.#entries.get(keyOf(worker, cache, url)) ?? null;
  }

  delete(worker: string, cache: string, url: string): boolean {
    if (!validKey(cache, url)) return false;
    return this.#entries.delete(keyOf(worker, cache, url));
  }

  /** The worker is deleted: a new worker of the same name must not see its entries. */
  forgetWorker(worker: string): void {
    const prefix = `${worker}\n`;
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  get bytes(): number {
    return this.#entries.calculatedSize;
  }
}

const keyOf = (worker: string, cache: string, url: string) => `${worker}\n${cache}\n${url}`;

function validKey(cache: unknown, url: unknown): boolean {
  return typeof cache === 'string' && cache.length <= MAX_CACHE_NAME_CHARS && typeof url === 'string' && url.length <= MAX_URL_CHARS;
}

/** The response as it is stored (Set-Cookie dropped under `private=set-cookie`) and for how long, or null. */
function storable(response: CachedResponse, now: number): { response: CachedResponse; ttlMs: number } | null {
  if (typeof response.headers !== 'string' || !(response.body instanceof ArrayBuffer)) return null;
  const lines = response.headers === '' ? [] : response.headers.split('\n');
  const directives = new Map<string, string>();
  let expires: string | null = null;
  let cookies = false;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const name = lines[i]!;
    if (name === 'cache-control') for (const [directive, value] of parseCacheControl(lines[i + 1]!)) directives.set(directive, value);
    else if (name === 'expires') expires = lines[i + 1]!;
    else if (name === 'set-cookie') cookies = true;
  }
  if (directives.has('no-store') || directives.has('no-cache')) return null;
  const privateFields = directives.get('private');
  let headers = response.headers;
  if (privateFields !== undefined) {
    if (!/(^|,)\s*set-cookie\s*(,|$)/i.test(privateFields)) return null;
    headers = withoutSetCookie(lines);
  } else if (cookies) return null;
  const ttlSeconds = maxAge(directives.get('s-maxage')) ?? maxAge(directives.get('max-age')) ?? expiresIn(expires, now) ?? DEFAULT_TTL_SECONDS[response.status] ?? 0;
  if (ttlSeconds <= 0) return null;
  return { response: { status: response.status, headers, body: response.body }, ttlMs: Math.min(ttlSeconds, 365 * 86400) * 1000 };
}

/** Directive → value ('' for none), lower-case names; a quoted value without its quotes. */
function parseCacheControl(value: string): [string, string][] {
  const out: [string, string][] = [];
  for (const match of value.matchAll(/([!#$%&'*+.^_`|~0-9a-z-]+)\s*(?:=\s*("[^"]*"|[^,]*))?/gi)) {
    out.push([match[1]!.toLowerCase(), (match[2] ?? '').replace(/^"|"$/g, '').trim()]);
  }
  return out;
}

function maxAge(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Number(value);
}

function expiresIn(value: string | null, now: number): number | null {
  if (value === null) return null;
  const at = Date.parse(value);
  // An invalid date means already expired (RFC 9111 §5.3).
  return Number.isNaN(at) ? 0 : Math.floor((at - now) / 1000);
}

function withoutSetCookie(lines: string[]): string {
  const kept: string[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) if (lines[i] !== 'set-cookie') kept.push(lines[i]!, lines[i + 1]!);
  return kept.join('\n');
}

/**
 * The Cache API as Workers has it (https://developers.cloudflare.com/workers/runtime-apis/cache/):
 * `caches.default` and `await caches.open(name)`, each a Cache with match, put and delete. Responses are
 * kept by the host (src/isolates/worker-caches.ts), which decides from their headers whether and how
 * long to keep them; this side checks the arguments, reads the body, and answers conditional and range
 * requests from what is stored (If-None-Match, If-Modified-Since: 304; one `bytes=` range: 206 or 416).
 * Like workerd, add, addAll, matchAll and keys are not implemented.
 */
import { hostCacheDelete, hostCacheMatch, hostCachePut } from '../bridge.ts';
import type { HeaderList } from '../host.d.ts';
import { nameClass } from '../global/define.ts';
import { createHeaders, getHeader } from '../http/headers.ts';
import { Request } from '../http/request.ts';
import { Response, responseForCache } from '../http/response.ts';
import {
  ArrayBufferPrototypeSlice,
  DateParse,
  NumberIsNaN,
  ObjectFreeze,
  RegExpPrototypeExec,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeSplit,
  StringPrototypeStartsWith,
  StringPrototypeToLowerCase,
  StringPrototypeTrim,
} from '../primordials.ts';

const INTERNAL = ObjectFreeze({});
const DEFAULT_NAME = '';

interface QueryOptions {
  ignoreMethod?: boolean;
}

/** The request a key names: its URL without the fragment, its method, its headers. */
function keyOf(request: unknown): Request {
  return request instanceof Request ? request : new Request(request as string);
}

function urlOf(request: Request): string {
  const url = request.url;
  const hash = StringPrototypeIndexOf(url, '#');
  return hash === -1 ? url : StringPrototypeSlice(url, 0, hash);
}

export interface CacheApi {
  caches: object;
  Cache: Function;
  CacheStorage: Function;
}

let api: CacheApi | null = null;

/** Defined on first use, like the event classes (global/lazy-globals.ts). */
export function loadCache(): CacheApi {
  return (api ??= defineCache());
}

function defineCache(): CacheApi {
  class Cache {
    readonly #name: string;

    constructor(token: unknown, name: string) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      this.#name = name;
    }

    async match(request: unknown, options?: QueryOptions): Promise<Response | undefined> {
      const key = keyOf(request);
      if (key.method !== 'GET' && !options?.ignoreMethod) return undefined;
      const found = hostCacheMatch(this.#name, urlOf(key));
      return found === null ? undefined : answer(found[0], found[1], found[2], key);
    }

    async put(request: unknown, response: unknown): Promise<undefined> {
      const key = keyOf(request);
      if (key.method !== 'GET') throw new TypeError('Cannot cache response to non-GET request.');
      const stored = responseForCache(response);
      if (typeof stored === 'string') throw new TypeError(`Cannot cache the response: ${stored}.`);
      if (stored.status === 206) throw new TypeError('Cannot cache response to a range request (206 Partial Content).');
      if (stored.status === 304) throw new TypeError('Cannot cache a 304 (Not Modified) response.');
      const vary = getHeader(stored.headers, 'vary');
      if (vary !== null && RegExpPrototypeExec(/(^|,)\s*\*\s*(,|$)/, vary) !== null) throw new TypeError("Cannot cache response with 'Vary: *' header.");
      const body = await stored.body;
      hostCachePut(this.#name, urlOf(key), stored.status, stored.headers, body);
      return undefined;
    }

    async delete(request: unknown, options?: QueryOptions): Promise<boolean> {
      const key = keyOf(request);
      if (key.method !== 'GET' && !options?.ignoreMethod) return false;
      return hostCacheDelete(this.#name, urlOf(key));
    }

    async add(): Promise<never> {
      throw new TypeError('Cache.add() is not implemented, as on Workers: fetch, then put.');
    }

    async addAll(): Promise<never> {
      throw new TypeError('Cache.addAll() is not implemented, as on Workers: fetch, then put.');
    }
  }
  nameClass(Cache, 'Cache');

  class CacheStorage {
    #default: Cache | null = null;

    constructor(token: unknown) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    }

    /** Workers' one cache per zone; here, per worker. */
    get default(): Cache {
      return (this.#default ??= new Cache(INTERNAL, DEFAULT_NAME));
    }

    async open(name: unknown): Promise<Cache> {
      const text = `${name as string}`;
      if (text.length > 1000) throw new TypeError('Cache name is too long.');
      // Named caches never collide with the default one: that is the name '' with no prefix.
      return new Cache(INTERNAL, `named:${text}`);
    }
  }
  nameClass(CacheStorage, 'CacheStorage');

  return { caches: new CacheStorage(INTERNAL), Cache, CacheStorage };
}


/** The stored response as the answer to `request`: whole, 304 for a matching validator, 206/416 for a range. */
function answer(status: number, headers: HeaderList, body: ArrayBuffer, request: Request): Response {
  const list: HeaderList = [];
  for (let i = 0; i < headers.length; i++) list[i] = headers[i]!;
  list[list.length] = 'cf-cache-status';
  list[list.length] = 'HIT';
  if (status === 200 && notModified(request, headers)) return new Response(null, { status: 304, headers: createHeaders(list, 'none') });
  const range = request.headers.get('range');
  if (status === 200 && range !== null) {
    const span = byteRange(range, body.byteLength);
    if (span === 'unsatisfiable') {
      list[list.length] = 'content-range';
      list[list.length] = `bytes */${body.byteLength}`;
      return new Response(null, { status: 416, headers: createHeaders(list, 'none') });
    }
    if (span !== null) {
      list[list.length] = 'content-range';
      list[list.length] = `bytes ${span[0]}-${span[1]}/${body.byteLength}`;
      return new Response(ArrayBufferPrototypeSlice(body, span[0], span[1] + 1), { status: 206, headers: createHeaders(list, 'none') });
    }
  }
  return new Response(status === 204 || status === 205 ? null : body, { status, headers: createHeaders(list, 'none') });
}

/** RFC 9110 §13.1.2 (weak comparison) and §13.1.3: If-None-Match first; If-Modified-Since only without it. */
function notModified(request: Request, stored: HeaderList): boolean {
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const etag = getHeader(stored, 'etag');
    if (etag === null) return false;
    const tags = StringPrototypeSplit(ifNoneMatch, ',');
    for (let i = 0; i < tags.length; i++) {
      const tag = StringPrototypeTrim(tags[i]!);
      if (tag === '*' || opaque(tag) === opaque(etag)) return true;
    }
    return false;
  }
  const since = request.headers.get('if-modified-since');
  const modified = getHeader(stored, 'last-modified');
  if (since === null || modified === null) return false;
  const sinceMs = DateParse(since);
  const modifiedMs = DateParse(modified);
  return !NumberIsNaN(sinceMs) && !NumberIsNaN(modifiedMs) && modifiedMs <= sinceMs;
}

const opaque = (tag: string) => (StringPrototypeStartsWith(tag, 'W/') ? StringPrototypeSlice(tag, 2) : tag);

/** One `bytes=` range of a body of `size` bytes as [first, last]; null: not one we answer (send it whole). */
function byteRange(header: string, size: number): [number, number] | 'unsatisfiable' | null {
  const match = RegExpPrototypeExec(/^bytes=(\d*)-(\d*)$/, StringPrototypeToLowerCase(StringPrototypeTrim(header)));
  if (match === null || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = +match[2]!;
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [size - (suffix > size ? size : suffix), size - 1];
  }
  const first = +match[1]!;
  if (first >= size) return 'unsatisfiable';
  const last = match[2] === '' ? size - 1 : +match[2]!;
  if (last < first) return null;
  return [first, last >= size ? size - 1 : last];
}

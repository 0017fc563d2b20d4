/**
 * A worker's outbound fetches within one invocation, done on the host with undici through the egress
 * agent: at most `perInvocation` in total (Workers: 50 on the free plan), `concurrent` at once (6, like
 * Workers' simultaneous connections; more wait their turn), each bounded by a timeout. Waiting costs the
 * worker wall time, never CPU: the answer re-enters the isolate as a new slice.
 * A response body of unknown or large size is not read here: it is handed on as a FetchedBody that the
 * executor reads one chunk per pull of the worker, so a proxied download is never held whole.
 */
import { STATUS_CODES } from 'node:http';
import { pipeline, Readable, type Transform } from 'node:stream';
import { constants as zlibConstants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { SERVICE_CALL_HEADER } from './service-call.ts';
import type { StreamedUpload } from './streamed-upload.ts';
import { request, type Dispatcher } from 'undici';

export interface SubrequestLimits {
  perInvocation: number;
  concurrent: number;
  /** Waiting for a place and the response's head; then, for a streamed body, between its chunks. */
  timeoutMs: number;
}

export const DEFAULT_SUBREQUEST_LIMITS: SubrequestLimits = { perInvocation: 50, concurrent: 6, timeoutMs: 30_000 };

/** Bodies of known length up to this size are read before the answer goes to the worker: one crossing. */
const WHOLE_BODY_BYTES = 64 * 1024;

/** A response body read as the worker pulls. */
export interface FetchedBody {
  /** The next chunk, or null at the end; rejects with a message fit for the tenant. */
  next(): Promise<ArrayBuffer | null>;
}

export interface SubrequestInit {
  method: string;
  url: string;
  headers: string[];
  /** Whole, none, or a stream the worker is still producing (see streamed-upload.ts). */
  body: ArrayBuffer | string | Readable | null;
  /** The request's redirect mode: followed here (each hop a subrequest of its own), handed back, or an error. */
  redirect: 'follow' | 'manual' | 'error';
  /**
   * A service binding's call (src/outbound/service-call.ts): sent to this server's own data plane at
   * `origin`, not through the egress agent, with the header `header(url)` makes, naming the worker and
   * the URL. Its redirects are followed as a fetch's are, each hop to the bound worker again, as
   * workerd's Fetcher does (they were handed back, a 302 where Workers gives the target's answer).
   */
  service?: { dispatcher: Dispatcher; origin: string; header: (url: string) => [string, string] };
}

export type SubrequestResult =
  | { ok: true; status: number; statusText: string; headers: string[]; body: ArrayBuffer | FetchedBody | null; url: string; redirected: boolean }
  | { ok: false; name: string; message: string };

/** The subrequests of one invocation. */
export class Subrequests {
  readonly #agent: Dispatcher;
  readonly #limits: SubrequestLimits;
  readonly #waiting: (() => void)[] = [];
  #started = 0;
  #active = 0;
  /** Response bodies the worker reads as a stream, by fetch id. */
  readonly fetchedBodies = new Map<number, FetchedBody>();
  /** Request bodies still being streamed upstream, by fetch id. */
  readonly uploads = new Map<number, StreamedUpload>();

  constructor(agent: Dispatcher, limits: SubrequestLimits) {
    this.#agent = agent;
    this.#limits = limits;
  }

  /** Each fetch until it is over (answered and its body read, failed, cancelled or timed out), by fetch id. */
  readonly #fetches = new Map<number, FetchControl>();
  /** Gives back a fetch's place among the `concurrent`, by fetch id, while it holds one. */
  readonly #releases = new Map<number, () => void>();
  /** Fetches whose place is held by a response body not yet read to its end, oldest first. */
  readonly #unreadBodies = new Set<number>();

  /** Whether the invocation has made as many fetches as it may: the next is refused (run answers at once). */
  get full(): boolean {
    return this.#started >= this.#limits.perInvocation;
  }

  run(fetchId: number, init: SubrequestInit, done: (result: SubrequestResult) => void): void {
    if (++this.#started > this.#limits.perInvocation) {
      // Answered after the caller returns: `done` enters the isolate, which is running the call that asked.
      queueMicrotask(() => done({ ok: false, name: 'TypeError', message: `Too many subrequests: an invocation may make at most ${this.#limits.perInvocation}.` }));
      return;
    }
    const controller = new AbortController();
    let waiting = false;
    // From now, not from when a place frees: a fetch waiting behind six slow ones times out too. One
    // timer, cleared when the fetch is over: AbortSignal.timeout() keeps its timer and what it holds for
    // the whole 30 s, and with two AbortSignal.any() it made a loopback fetch ~0.2 ms slower (BENCHMARKS).
    const expire = () => {
      this.#fetches.delete(fetchId);
      if (!waiting) {
        controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
        return;
      }
      waiting = false;
      const at = this.#waiting.indexOf(go);
      if (at !== -1) this.#waiting.splice(at, 1);
      done({ ok: false, name: 'TypeError', message: 'fetch failed: timed out' });
    };
    const timer = setTimeout(expire, this.#limits.timeoutMs).unref();
    const fetch: FetchControl = { controller, timer };
    this.#fetches.set(fetchId, fetch);
    // A streamed body's read starts the time again with each chunk: what times out is a body that makes
    // no progress, not a long one (a model's answer streamed for minutes was cut at 30 s).
    const progressed = () => {
      if (this.#fetches.get(fetchId) !== fetch) return;
      clearTimeout(fetch.timer);
      fetch.timer = setTimeout(expire, this.#limits.timeoutMs).unref();
    };
    const go = () => {
      waiting = false;
      // Cancelled by the worker while it waited (a timeout while waiting answers from the timer).
      if (controller.signal.aborted) {
        // Answered after the caller returns: a place frees inside a host call (another fetch aborted),
        // and `done` enters the isolate, which is running that call.
        queueMicrotask(() => done({ ok: false, name: 'AbortError', message: 'The operation was aborted.' }));
        this.#waiting.shift()?.();
        return;
      }
      this.#active++;
      // A connection is taken until the response's body is read, abandoned or aborted, not only until
      // its headers: 50 fetches left unread held 50 upstream connections at once.
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        this.#over(fetchId);
        this.#releases.delete(fetchId);
        this.#unreadBodies.delete(fetchId);
        this.#active--;
        this.#waiting.shift()?.();
      };
      this.#releases.set(fetchId, release);
      const answer = (result: SubrequestResult) => {
        if (result.ok && result.body !== null && !(result.body instanceof ArrayBuffer)) {
          result.body = untilRead(result.body, release, progressed);
          this.#unreadBodies.add(fetchId);
          this.#breakDeadlock();
        } else release();
        done(result);
      };
      // Sent once the caller returns: undici's set-up of a fetch is the host's work, not CPU of the invocation
      // whose slice asked (it was charged ~1-2 ms a fetch, and ~8 ms more for the first in a process).
      queueMicrotask(() => {
        this.#send(init, controller.signal).then(answer, () => answer({ ok: false, name: 'TypeError', message: 'fetch failed' }));
      });
    };
    if (this.#active < this.#limits.concurrent) {
      go();
      return;
    }
    waiting = true;
    this.#waiting.push(go);
    this.#breakDeadlock();
  }

  /**
   * As Workers do when every place is held by a response body nobody reads while another fetch waits:
   * the least recently answered one is cancelled (reading it then fails), so the worker is not stuck.
   */
  #breakDeadlock(): void {
    if (this.#waiting.length === 0 || this.#unreadBodies.size < this.#active) return;
    const [oldest] = this.#unreadBodies;
    if (oldest !== undefined) this.cancel(oldest);
  }

  /** Fetch `fetchId` is over: its timer goes. */
  #over(fetchId: number): void {
    const fetch = this.#fetches.get(fetchId);
    if (!fetch) return;
    clearTimeout(fetch.timer);
    this.#fetches.delete(fetchId);
  }

  /** The worker's signal aborted fetch `fetchId`: stop it (waiting, in flight, or its body); false if unknown. */
  cancel(fetchId: number): boolean {
    const fetch = this.#fetches.get(fetchId);
    if (!fetch) return false;
    fetch.controller.abort();
    this.#over(fetchId);
    this.#releases.get(fetchId)?.();
    this.uploads.get(fetchId)?.end('the fetch was aborted');
    this.uploads.delete(fetchId);
    return true;
  }

  /** The invocation is over: whatever is still in flight is abandoned. */
  abort(): void {
    this.#waiting.length = 0;
    this.#unreadBodies.clear();
    for (const { controller, timer } of this.#fetches.values()) {
      clearTimeout(timer);
      controller.abort(INVOCATION_ENDED);
    }
    this.#fetches.clear();
    for (const upload of this.uploads.values()) upload.end('the invocation ended');
    this.uploads.clear();
    this.fetchedBodies.clear();
  }

  /**
   * One fetch, with undici's `request` rather than its `fetch`: that one is a browser's fetch, and
   * sent headers no Workers runtime sends (accept, accept-language, sec-fetch-mode, user-agent:
   * undici), always followed redirects (a worker passing its request on with `redirect: 'manual'`, as
   * an incoming request has, got the target instead of the 3xx) and decoded bodies while keeping
   * their Content-Encoding (a proxied gzip response reached clients labelled gzip, decoded).
   */
  async #send(init: SubrequestInit, signal: AbortSignal): Promise<SubrequestResult> {
    let { url, method, body } = init;
    // The connection's own headers are undici's to write (Host from the URL: a worker passing its
    // request on would otherwise send its own host name upstream, and as the TLS server name).
    // A stream body keeps a Content-Length the worker sent (or the runtime knew: a FixedLengthStream, a
    // client's body passed on): undici then sends that many bytes, not chunks, which presigned S3 and
    // GCS uploads refuse. A whole body's length is undici's to write.
    const declared = body instanceof Readable ? contentLength(init.headers) : null;
    let headers = withoutHeaders(init.headers, CONNECTION_HEADERS);
    if (declared !== null) headers.push('content-length', declared);
    for (let redirects = 0; ; redirects++) {
      let response: Dispatcher.ResponseData;
      const payload = method === 'GET' || method === 'HEAD' || body === null ? null : body instanceof ArrayBuffer ? Buffer.from(body) : body;
      try {
        response = init.service
          ? await init.service.dispatcher.request({
              origin: init.service.origin,
              path: '/',
              method: method as Dispatcher.HttpMethod,
              // The worker's own copy of the header, if it set one, goes: the callee is the binding's.
              headers: [...withoutHeaders(headers, SERVICE_HEADER), ...init.service.header(url)],
              body: payload,
              signal,
            })
          : await request(url, { dispatcher: this.#agent, method: method as Dispatcher.HttpMethod, headers, body: payload, signal });
      } catch (err) {
        return { ok: false, name: 'TypeError', message: `fetch failed: ${describe(err)}` };
      }
      const status = response.statusCode;
      const location = REDIRECT_STATUSES.has(status) ? single(response.headers.location) : undefined;
      if (location === undefined || init.redirect === 'manual') return this.#answer(response, method, url, redirects > 0);
      response.body.dump().catch(() => {});
      if (init.redirect === 'error') return { ok: false, name: 'TypeError', message: `fetch failed: ${url} redirected, and the request's redirect mode is "error"` };
      if (redirects === MAX_REDIRECTS) return { ok: false, name: 'TypeError', message: `fetch failed: more than ${MAX_REDIRECTS} redirects` };
      // Each hop is a subrequest of its own, as on Workers: a loop of redirects cannot multiply the limit.
      if (++this.#started > this.#limits.perInvocation) return { ok: false, name: 'TypeError', message: `Too many subrequests: an invocation may make at most ${this.#limits.perInvocation}.` };
      const next = URL.parse(location, url);
      if (next === null || (next.protocol !== 'http:' && next.protocol !== 'https:')) return { ok: false, name: 'TypeError', message: `fetch failed: redirect to ${JSON.stringify(location)}, not an http(s) URL` };
      // https://fetch.spec.whatwg.org/#http-redirect-fetch
      if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = null;
        headers = withoutHeaders(headers, BODY_HEADERS);
      } else if (body instanceof Readable) {
        return { ok: false, name: 'TypeError', message: 'fetch failed: a request with a streamed body cannot follow a redirect that resends it' };
      }
      if (next.origin !== new URL(url).origin) headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
      url = next.href;
    }
  }

  /** The answer for the worker. A body in one known encoding is decoded, and then carries no Content-Encoding or Length. */
  async #answer(response: Dispatcher.ResponseData, method: string, url: string, redirected: boolean): Promise<SubrequestResult> {
    const status = response.statusCode;
    let list: string[] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) list.push(name, item);
      else if (value !== undefined) list.push(name, value);
    }
    const answer = { ok: true as const, status, statusText: STATUS_CODES[status] ?? '', url, redirected };
    if (method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
      response.body.dump().catch(() => {});
      return { ...answer, headers: list, body: null };
    }
    const decoder = decoderFor(single(response.headers['content-encoding']));
    if (decoder !== null) {
      list = withoutHeaders(list, ENCODED_BODY_HEADERS);
      // Decoded, its size is unknown until read: it streams (a small gzip can decode to a lot).
      return { ...answer, headers: list, body: this.#streamed(pipeline(response.body, decoder, () => {})) };
    }
    const length = single(response.headers['content-length']);
    if (length === undefined || Number(length) > WHOLE_BODY_BYTES) return { ...answer, headers: list, body: this.#streamed(response.body) };
    try {
      return { ...answer, headers: list, body: await response.body.arrayBuffer() };
    } catch (err) {
      return { ok: false, name: 'TypeError', message: `fetch failed while reading the body: ${describe(err)}` };
    }
  }

  /** The body as a pull source; reading it stops with the invocation's abort or the subrequest's timeout. */
  #streamed(source: Readable): FetchedBody {
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    return {
      next: async () => {
        let result: IteratorResult<Buffer>;
        try {
          result = await chunks.next();
        } catch (err) {
          throw new Error(`fetch failed while reading the body: ${describe(err)}`);
        }
        if (result.done) return null;
        const chunk = result.value;
        return chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
      },
    };
  }
}

/** A fetch's abort and timeout. */
interface FetchControl {
  controller: AbortController;
  /** Until the response's head, then between the chunks of its body the worker reads. */
  timer: NodeJS.Timeout;
}

/** The abort reason of fetches still under way when their invocation ends: one, made once (a DOMException takes a stack). */
const INVOCATION_ENDED = new DOMException('The invocation ended.', 'AbortError');

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** As browsers and workerd: the standard's limit. */
const MAX_REDIRECTS = 20;
/** Dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);
/** Dropped when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
const ENCODED_BODY_HEADERS = new Set(['content-encoding', 'content-length']);
/** What undici writes itself (or refuses from a caller), as a Workers runtime does. */
const SERVICE_HEADER = new Set([SERVICE_CALL_HEADER]);
const CONNECTION_HEADERS = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'expect', 'content-length']);

/** `body`, calling `release` once it has been read to its end or has failed. */
function untilRead(body: FetchedBody, release: () => void, progressed: () => void): FetchedBody {
  return {
    next: async () => {
      try {
        const chunk = await body.next();
        if (chunk === null) release();
        else progressed();
        return chunk;
      } catch (err) {
        release();
        throw err;
      }
    },
  };
}

/** The list's one Content-Length, when it is a number of bytes; else null. */
function contentLength(list: string[]): string | null {
  let found: string | null = null;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i]!.toLowerCase() !== 'content-length') continue;
    if (found !== null || !/^\d{1,15}$/.test(list[i + 1]!)) return null;
    found = list[i + 1]!;
  }
  return found;
}

/** A header's one value (undici gives repeated ones as an array). */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function withoutHeaders(list: string[], names: Set<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < list.length; i += 2) if (!names.has(list[i]!.toLowerCase())) kept.push(list[i]!, list[i + 1]!);
  return kept;
}

/** A decoder for a body in one encoding fetch decodes; null for none, an unknown one, or several. */
function decoderFor(encoding: string | undefined): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
    case 'deflate':
      return createInflate({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
    case 'br':
      return createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH });
    default:
      return null;
  }
}

/** The reason without host details a tenant should not see (paths, stacks). */
function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof Error && 'code' in cause && cause.code === 'ISO_ERR_FETCH_BLOCKED') return cause.message;
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'timed out';
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : 'network error';
}

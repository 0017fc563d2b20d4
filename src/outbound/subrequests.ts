/**
 * A worker's outbound fetches within one invocation, done on the host with undici through the egress
 * agent: at most `perInvocation` in total (Workers: 50 on the free plan), `concurrent` at once (6, like
 * Workers' simultaneous connections; more wait their turn), each bounded by a timeout. Waiting costs the
 * worker wall time, never CPU: the answer re-enters the isolate as a new slice.
 * A response body of unknown or large size is not read here: it is handed on as a FetchedBody that the
 * executor reads one chunk per pull of the worker, so a proxied download is never held whole.
 */
import { Readable } from 'node:stream';
import type { StreamedUpload } from './streamed-upload.ts';
import { fetch, type BodyInit, type Dispatcher } from 'undici';
import { concatToArrayBuffer } from '../bytes.ts';

export interface SubrequestLimits {
  perInvocation: number;
  concurrent: number;
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
}

export type SubrequestResult =
  | { ok: true; status: number; statusText: string; headers: string[]; body: ArrayBuffer | FetchedBody | null; url: string; redirected: boolean }
  | { ok: false; name: string; message: string };

/** The subrequests of one invocation. */
export class Subrequests {
  readonly #agent: Dispatcher;
  readonly #limits: SubrequestLimits;
  readonly #abort = new AbortController();
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

  /** Each fetch's own abort, by fetch id, while it waits, runs or its body is read. */
  readonly #controllers = new Map<number, AbortController>();

  run(fetchId: number, init: SubrequestInit, done: (result: SubrequestResult) => void): void {
    if (++this.#started > this.#limits.perInvocation) {
      // Answered after the caller returns: `done` enters the isolate, which is running the call that asked.
      queueMicrotask(() => done({ ok: false, name: 'TypeError', message: `Too many subrequests: an invocation may make at most ${this.#limits.perInvocation}.` }));
      return;
    }
    const controller = new AbortController();
    this.#controllers.set(fetchId, controller);
    const go = () => {
      if (controller.signal.aborted) {
        done({ ok: false, name: 'AbortError', message: 'The operation was aborted.' });
        this.#waiting.shift()?.();
        return;
      }
      this.#active++;
      // Sent once the caller returns: undici's set-up of a fetch is the host's work, not CPU of the invocation
      // whose slice asked (it was charged ~1-2 ms a fetch, and ~8 ms more for the first in a process).
      queueMicrotask(() => {
        this.#send(init, controller.signal).then(done, () => done({ ok: false, name: 'TypeError', message: 'fetch failed' })).finally(() => {
          this.#active--;
          this.#waiting.shift()?.();
        });
      });
    };
    if (this.#active < this.#limits.concurrent) go();
    else this.#waiting.push(go);
  }

  /** The worker's signal aborted fetch `fetchId`: stop it (waiting, in flight, or its body); false if unknown. */
  cancel(fetchId: number): boolean {
    const controller = this.#controllers.get(fetchId);
    if (!controller) return false;
    this.#controllers.delete(fetchId);
    controller.abort();
    this.uploads.get(fetchId)?.end('the fetch was aborted');
    this.uploads.delete(fetchId);
    return true;
  }

  /** The invocation is over: whatever is still in flight is abandoned. */
  abort(): void {
    this.#waiting.length = 0;
    this.#abort.abort();
    this.#controllers.clear();
    for (const upload of this.uploads.values()) upload.end('the invocation ended');
    this.uploads.clear();
    this.fetchedBodies.clear();
  }

  async #send(init: SubrequestInit, aborted: AbortSignal): Promise<SubrequestResult> {
    const headers: [string, string][] = [];
    for (let i = 0; i < init.headers.length; i += 2) headers.push([init.headers[i]!, init.headers[i + 1]!]);
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(init.url, {
        method: init.method,
        headers,
        body: init.body === null || init.method === 'GET' || init.method === 'HEAD' ? null : (init.body as BodyInit),
        // A stream body is sent as it is produced; undici asks for 'half' duplex to say so.
        ...(init.body instanceof Readable ? { duplex: 'half' as const } : {}),
        redirect: 'follow',
        dispatcher: this.#agent,
        signal: AbortSignal.any([this.#abort.signal, aborted, AbortSignal.timeout(this.#limits.timeoutMs)]),
      });
    } catch (err) {
      return { ok: false, name: 'TypeError', message: `fetch failed: ${describe(err)}` };
    }
    const list: string[] = [];
    for (const [name, value] of response.headers) list.push(name, value);
    const answer = { ok: true as const, status: response.status, statusText: response.statusText, headers: list, url: response.url, redirected: response.redirected };
    const source = response.body;
    if (source === null) return { ...answer, body: null };
    const length = response.headers.get('content-length');
    if (length === null || Number(length) > WHOLE_BODY_BYTES) return { ...answer, body: this.#streamed(source) };
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        chunks.push(chunk);
      }
    } catch (err) {
      return { ok: false, name: 'TypeError', message: `fetch failed while reading the body: ${describe(err)}` };
    }
    return { ...answer, body: concatToArrayBuffer(chunks, size) };
  }

  /** The body as a pull source; reading it stops with the invocation's abort or the subrequest's timeout. */
  #streamed(source: ReadableStream<Uint8Array>): FetchedBody {
    const reader = source.getReader();
    return {
      next: async () => {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
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

/** The reason without host details a tenant should not see (paths, stacks). */
function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof Error && 'code' in cause && cause.code === 'ISO_ERR_FETCH_BLOCKED') return cause.message;
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'timed out';
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : 'network error';
}

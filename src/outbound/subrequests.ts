/**
 * A worker's outbound fetches within one invocation, done on the host with undici through the egress
 * agent: at most `perInvocation` in total (Workers: 50 on the free plan), `concurrent` at once (6, like
 * Workers' simultaneous connections; more wait their turn), each bounded by a timeout and a response
 * size. Waiting costs the worker wall time, never CPU: the answer re-enters the isolate as a new slice.
 */
import { fetch, type Dispatcher } from 'undici';
import { concatToArrayBuffer } from '../bytes.ts';

export interface SubrequestLimits {
  perInvocation: number;
  concurrent: number;
  timeoutMs: number;
  maxResponseBytes: number;
}

export const DEFAULT_SUBREQUEST_LIMITS: SubrequestLimits = { perInvocation: 50, concurrent: 6, timeoutMs: 30_000, maxResponseBytes: 32 * 1024 * 1024 };

export interface SubrequestInit {
  method: string;
  url: string;
  headers: string[];
  body: ArrayBuffer | string | null;
}

export type SubrequestResult =
  | { ok: true; status: number; statusText: string; headers: string[]; body: ArrayBuffer | null; url: string; redirected: boolean }
  | { ok: false; name: string; message: string };

/** The subrequests of one invocation. */
export class Subrequests {
  readonly #agent: Dispatcher;
  readonly #limits: SubrequestLimits;
  readonly #abort = new AbortController();
  readonly #waiting: (() => void)[] = [];
  #started = 0;
  #active = 0;

  constructor(agent: Dispatcher, limits: SubrequestLimits) {
    this.#agent = agent;
    this.#limits = limits;
  }

  run(init: SubrequestInit, done: (result: SubrequestResult) => void): void {
    if (++this.#started > this.#limits.perInvocation) {
      done({ ok: false, name: 'TypeError', message: `Too many subrequests: an invocation may make at most ${this.#limits.perInvocation}.` });
      return;
    }
    const go = () => {
      this.#active++;
      this.#send(init).then(done, () => done({ ok: false, name: 'TypeError', message: 'fetch failed' })).finally(() => {
        this.#active--;
        this.#waiting.shift()?.();
      });
    };
    if (this.#active < this.#limits.concurrent) go();
    else this.#waiting.push(go);
  }

  /** The invocation is over: whatever is still in flight is abandoned. */
  abort(): void {
    this.#waiting.length = 0;
    this.#abort.abort();
  }

  async #send(init: SubrequestInit): Promise<SubrequestResult> {
    const headers: [string, string][] = [];
    for (let i = 0; i < init.headers.length; i += 2) headers.push([init.headers[i]!, init.headers[i + 1]!]);
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(init.url, {
        method: init.method,
        headers,
        body: init.body === null || init.method === 'GET' || init.method === 'HEAD' ? null : init.body,
        redirect: 'follow',
        dispatcher: this.#agent,
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#limits.timeoutMs)]),
      });
    } catch (err) {
      return { ok: false, name: 'TypeError', message: `fetch failed: ${describe(err)}` };
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > this.#limits.maxResponseBytes) {
      await response.body?.cancel();
      return { ok: false, name: 'TypeError', message: `fetch failed: the response is larger than ${this.#limits.maxResponseBytes} bytes` };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body ?? []) {
        size += chunk.byteLength;
        if (size > this.#limits.maxResponseBytes) {
          return { ok: false, name: 'TypeError', message: `fetch failed: the response is larger than ${this.#limits.maxResponseBytes} bytes` };
        }
        chunks.push(chunk);
      }
    } catch (err) {
      return { ok: false, name: 'TypeError', message: `fetch failed while reading the body: ${describe(err)}` };
    }
    const body = response.body === null ? null : concatToArrayBuffer(chunks, size);
    const list: string[] = [];
    for (const [name, value] of response.headers) list.push(name, value);
    return { ok: true, status: response.status, statusText: response.statusText, headers: list, body, url: response.url, redirected: response.redirected };
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

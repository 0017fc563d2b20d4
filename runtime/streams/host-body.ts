/**
 * A body the host streams in as it arrives: an incoming request's (keyed by invocation id) or an
 * outbound fetch's response (keyed by fetch id). It is a byte stream whose pull asks the host for the
 * next chunk (host 'pullBody' / 'pullFetchBody'); the chunk comes back later as dispatch('bodyChunk' /
 * 'fetchChunk', id, bytes | null at the end) or an error op. One pull at a time, so the host reads from
 * the network only as fast as the worker consumes: a large body is never held whole anywhere.
 */
import { hostFetchAbort, hostPullBody, hostPullFetchBody } from '../bridge.ts';
import {
  ArrayBufferPrototypeGetByteLength,
  ObjectCreate,
  ObjectSetPrototypeOf,
  PromiseCtor,
  WeakRefCtor,
  WeakRefPrototypeDeref,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

type ByteController = Parameters<ReturnType<typeof loadStreams>['enqueueBytes']>[0];

/** Which host body: 'r' + invocation id, 'f' + fetch id. */
type Key = string;

interface Pending {
  controller: ByteController;
  /** Settles the pull that asked for the chunk. */
  delivered: () => void;
}

const pulls: Record<Key, Pending | undefined> = ObjectCreate(null);
/** Bodies that can no longer be read (the client went away): why, for each pull from now on. */
const gone: Record<Key, string | undefined> = ObjectCreate(null);

function hostStream(key: Key, ask: () => void, cancelled: () => void = () => {}, started: (controller: ByteController) => void = () => {}): ReadableStream<Uint8Array> {
  const streams = loadStreams();
  const source = {
    type: 'bytes' as const,
    start: started,
    pull(controller: ByteController) {
      const why = gone[key];
      if (why !== undefined) {
        controller.error(new TypeError(why));
        return;
      }
      return new PromiseCtor<void>((resolve) => {
        pulls[key] = { controller, delivered: resolve };
        ask();
      });
    },
    cancel() {
      delete pulls[key];
      // A fetched body: the host stops it now and frees its connection (a request body's rest is
      // dropped when the invocation ends).
      cancelled();
    },
  };
  // The library reads `pull`, `cancel`, … off the source: none may come from Object.prototype.
  ObjectSetPrototypeOf(source, null);
  return new streams.api.ReadableStream(source) as ReadableStream<Uint8Array>;
}

function deliver(key: Key, chunk: ArrayBuffer | null): void {
  const pending = pulls[key];
  if (pending === undefined) return;
  delete pulls[key];
  const streams = loadStreams();
  if (chunk === null) {
    streams.closeBytes(pending.controller);
    // A BYOB read waiting on the closed stream is answered with zero bytes.
    (pending.controller as { byobRequest: { respond(n: number): void } | null }).byobRequest?.respond(0);
  } else if (ArrayBufferPrototypeGetByteLength(chunk) > 0) {
    streams.enqueueBytes(pending.controller, new Uint8ArrayCtor(chunk));
  }
  pending.delivered();
}

function fail(key: Key, message: string): void {
  const pending = pulls[key];
  if (pending === undefined) return;
  delete pulls[key];
  pending.controller.error(new TypeError(message));
  pending.delivered();
}

/** The streamed request body of invocation `id`. */
export function requestBodyStream(id: number): ReadableStream<Uint8Array> {
  return hostStream(`r${id}`, () => hostPullBody(id));
}

/**
 * The streamed response body of outbound fetch `fetchId`, and what errors it when the fetch's signal
 * aborts after the answer: a read waiting, or to come, fails with the signal's reason (the Fetch
 * standard's "abort fetch"), not with the host's TypeError of a body cut short (the openai SDK ends a
 * stream it aborted only on an AbortError). The function holds the stream's controller weakly: a signal
 * that lives on (AbortSignal.timeout) keeps no body alive.
 */
export function fetchBodyStream(fetchId: number): { stream: ReadableStream<Uint8Array>; abort: (reason: unknown) => void } {
  const key = `f${fetchId}`;
  let held: WeakRef<ByteController> | null = null;
  const stream = hostStream(key, () => hostPullFetchBody(fetchId), () => hostFetchAbort(fetchId), (controller) => {
    held = new WeakRefCtor(controller);
  });
  const abort = (reason: unknown) => {
    const controller = held === null ? undefined : WeakRefPrototypeDeref(held);
    if (controller === undefined) return;
    const pending = pulls[key];
    delete pulls[key];
    try {
      controller.error(reason);
    } catch {
      // Closed or errored already.
    }
    pending?.delivered();
  };
  return { stream, abort };
}

/** dispatch('bodyChunk'): the next chunk of invocation `id`'s request body, or null at its end. */
export function bodyChunk(id: number, chunk: ArrayBuffer | null): void {
  deliver(`r${id}`, chunk);
}

/** dispatch('bodyError'): the body cannot be read to its end (too large, client gone). */
export function bodyError(id: number, message: string): void {
  fail(`r${id}`, message);
}

/** dispatch('fetchChunk'): the next chunk of fetch `fetchId`'s response body, or null at its end. */
export function fetchChunk(fetchId: number, chunk: ArrayBuffer | null): void {
  deliver(`f${fetchId}`, chunk);
}

/** dispatch('fetchBodyError'): the upstream failed or timed out while its body was being read. */
export function fetchBodyError(fetchId: number, message: string): void {
  fail(`f${fetchId}`, message);
}

/** The invocation is over: a pull of its request body still waiting will never be answered. */
export function forgetBody(id: number): void {
  delete pulls[`r${id}`];
  delete gone[`r${id}`];
}

/** The client went away: a read waiting on invocation `id`'s request body, and any later one, fails. */
export function requestBodyGone(id: number, message: string): void {
  gone[`r${id}`] = message;
  fail(`r${id}`, message);
}

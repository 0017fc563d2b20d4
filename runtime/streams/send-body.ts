/**
 * A body stream sent to the host chunk by chunk as the worker produces it: a response body (host
 * 'chunk', 'endBody'; keyed by invocation id) or an outbound fetch's request body (host 'fetchUpload',
 * 'fetchUploadEnd'; keyed by fetch id). The chunks a source makes together go in one host call (see
 * send's flushSoon), which answers whether the host wants more right now. When it says no (the client or the upstream reads slower than the worker
 * writes), reading pauses until dispatch('pull' | 'fetchPull'): the worker's stream then fills up and
 * its producer sees the backpressure (desiredSize, pull not called).
 */
import { hostChunk, hostEndBody, hostFetchUpload, hostFetchUploadEnd } from '../bridge.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { concatBytes } from '../encoding/concat-bytes.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import {
  ObjectCreate,
  PromisePrototypeThen,
  PromiseResolved,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
} from '../primordials.ts';
import { type ReadableStream, type Streams, loadStreams } from './web-streams.ts';

/** Where the chunks go. */
interface Sink {
  /** Which paused reader dispatch resumes: 'r' + invocation id, 'f' + fetch id. */
  key: string;
  /** Sends one chunk; false: wait for the resume. */
  chunk(bytes: ArrayBuffer): boolean;
  end(): void;
}

/** Reading paused by the host, by sink key: dispatch('pull' | 'fetchPull') resumes it. */
const paused: Record<string, (() => void) | undefined> = ObjectCreate(null);

/** What is held back for one host call at most (see send's flushSoon). */
const FLUSH_BYTES = 16 * 1024;

/**
 * Microtask turns without a new chunk after which what is held is sent: a producer awaiting each
 * write (a TransformStream's writer) makes its next chunk a few turns after the last was read.
 */
const IDLE_TURNS = 16;

const resolved = PromiseResolved(undefined);

/** The reader of each response body being sent, by sink key, for cancelSentBody. */
const readers: Record<string, ReturnType<Streams['getReader']> | undefined> = ObjectCreate(null);

/**
 * Sends `stream` as invocation `id`'s response body, then host('endBody'). `stopped` is asked before each
 * read: once it says true the stream is cancelled. `finished` is called once: with null after the last
 * chunk, with the error when the stream errored or produced something that is not a Uint8Array.
 */
export function sendBody(id: number, stream: ReadableStream<unknown>, stopped: () => boolean, finished: (error: unknown) => void): void {
  send({ key: `r${id}`, chunk: (bytes) => hostChunk(id, bytes), end: () => hostEndBody(id) }, stream, stopped, finished);
}

/** Sends `stream` as outbound fetch `fetchId`'s request body, then host('fetchUploadEnd'). */
export function sendFetchBody(fetchId: number, stream: ReadableStream<unknown>, finished: (error: unknown) => void): void {
  send({ key: `f${fetchId}`, chunk: (bytes) => hostFetchUpload(fetchId, bytes), end: () => hostFetchUploadEnd(fetchId, '') }, stream, () => false, finished);
}

function send(sink: Sink, stream: ReadableStream<unknown>, stopped: () => boolean, finished: (error: unknown) => void): void {
  const streams = loadStreams();
  const reader = streams.getReader(stream);
  readers[sink.key] = reader;
  // Chunks read and not sent yet: they go to the host together (see flushSoon).
  let held: Uint8Array<ArrayBuffer>[] = [];
  let heldBytes = 0;
  /** Reads that resolved since the last flushSoon check. */
  let reads = 0;
  let checking = false;
  /** The host said it wants no more for now: reading waits for resume. */
  let hostFull = false;
  /** A read of the source is under way: a resume then only sends what is held (the read's callback steps on). */
  let reading = false;

  /**
   * Sends what is held as one chunk, unless the host wants no more for now (`last`: the stream ended,
   * and what is held goes anyway); false while the host wants no more.
   */
  const flush = (last = false): boolean => {
    if (heldBytes === 0 || (hostFull && !last)) return !hostFull;
    const bytes = held.length === 1 ? held[0]! : concatBytes(held);
    held = [];
    heldBytes = 0;
    if (!sink.chunk(TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer)) {
      hostFull = true;
      // Registered now, not when the next read resolves: the host's one 'pull' may come before that.
      if (!last) paused[sink.key] = resume;
    }
    return !hostFull;
  };
  /**
   * Sends what is held once IDLE_TURNS microtask turns pass without another chunk (or FLUSH_BYTES are
   * held): chunks a source makes together (a pull that enqueues many, a writer's awaited writes) cross
   * into the host as one, where each was a host call of its own (~8 µs of the worker's CPU each: 10,000
   * small chunks of a server-sent stream ran into a 50 ms limit); a chunk made on its own, after a timer
   * or a fetch, still goes within its slice.
   */
  const flushSoon = (): void => {
    if (checking) return;
    checking = true;
    let idle = 0;
    const check = (): void => {
      idle = reads > 0 ? 0 : idle + 1;
      reads = 0;
      if (idle < IDLE_TURNS && heldBytes < FLUSH_BYTES) {
        PromisePrototypeThen(resolved, check);
        return;
      }
      checking = false;
      if (!stopped()) flush();
    };
    PromisePrototypeThen(resolved, check);
  };
  /** The stream is done with: nothing of it stays registered (a refused flush left a resume behind). */
  const forget = (): void => {
    delete readers[sink.key];
    if (paused[sink.key] === resume) delete paused[sink.key];
  };
  const stop = (): void => {
    forget();
    held = [];
    heldBytes = 0;
    PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
  };
  const step = (): void => {
    if (stopped()) return stop();
    if (hostFull) {
      paused[sink.key] = resume;
      return;
    }
    reading = true;
    PromisePrototypeThen(
      streams.read(reader),
      (result) => {
        reading = false;
        if (stopped()) return stop();
        if (result.done) {
          forget();
          flush(true);
          sink.end();
          finished(null);
          return;
        }
        const bytes = chunkBytes(result.value);
        if (bytes === null) {
          forget();
          flush(true);
          const error = new TypeError('The body stream produced a chunk that is not a Uint8Array.');
          PromisePrototypeThen(streams.cancel(reader, error), undefined, () => {});
          finished(error);
          return;
        }
        const length = TypedArrayPrototypeGetByteLength(bytes);
        if (length > 0) {
          held[held.length] = bytes;
          heldBytes += length;
          reads++;
          if (heldBytes >= FLUSH_BYTES) flush();
          else flushSoon();
        }
        step();
      },
      (error: unknown) => {
        reading = false;
        forget();
        flush(true);
        finished(error);
      },
    );
  };
  /** dispatch('pull' | 'fetchPull'): the host has room again. */
  const resume = (): void => {
    hostFull = false;
    if (!flush()) paused[sink.key] = resume;
    else if (!reading) step();
  };
  step();
}

/**
 * A chunk's bytes, copied (the worker may reuse its buffer once enqueued, and the bridge copies only
 * whole ArrayBuffers), or null. Besides a Uint8Array, what workerd sends too: a string (as UTF-8: a
 * common `controller.enqueue('text')` works there) and any other BufferSource.
 */
function chunkBytes(chunk: unknown): Uint8Array<ArrayBuffer> | null {
  if (TypedArrayPrototypeGetSymbolToStringTag(chunk) === 'Uint8Array') return copyBytes(chunk as Uint8Array);
  if (typeof chunk === 'string') return utf8Encode(chunk);
  const bytes = bufferSourceBytes(chunk, false);
  return bytes === null ? null : copyBytes(bytes);
}

function resume(key: string): void {
  const step = paused[key];
  if (step === undefined) return;
  delete paused[key];
  step();
}

/** dispatch('pull'): the host has room again for invocation `id`'s response body. */
export function resumeBody(id: number): void {
  resume(`r${id}`);
}

/** dispatch('fetchPull'): the upstream took what was sent of fetch `fetchId`'s request body. */
export function resumeFetchBody(fetchId: number): void {
  resume(`f${fetchId}`);
}

/**
 * Invocation `id` is cancelled, or its client went away: its response body stream is cancelled with
 * `reason` now, whether a read waits on its source or the host had paused it, and nothing more of it is
 * sent. (A paused body used to be left unread: its source's cancel() never ran.)
 */
export function cancelSentBody(id: number, reason: unknown): void {
  cancelSending(`r${id}`, reason);
}

/**
 * Fetch `fetchId` failed or was aborted: the request body it was still sending is cancelled with
 * `reason`, as the Fetch standard cancels it. The host had stopped taking it, and without this its
 * source was never cancelled and its reader stayed here for the isolate's life.
 */
export function cancelFetchUpload(fetchId: number, reason: unknown): void {
  cancelSending(`f${fetchId}`, reason);
}

function cancelSending(key: string, reason: unknown): void {
  const reader = readers[key];
  delete paused[key];
  delete readers[key];
  if (reader !== undefined) PromisePrototypeThen(loadStreams().cancel(reader, reason), undefined, () => {});
}

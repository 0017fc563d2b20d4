/**
 * A body stream sent to the host chunk by chunk as the worker produces it: a response body (host
 * 'chunk', 'endBody'; keyed by invocation id) or an outbound fetch's request body (host 'fetchUpload',
 * 'fetchUploadEnd'; keyed by fetch id). Each chunk is one host call, which answers whether the host
 * wants more right now. When it says no (the client or the upstream reads slower than the worker
 * writes), reading pauses until dispatch('pull' | 'fetchPull'): the worker's stream then fills up and
 * its producer sees the backpressure (desiredSize, pull not called).
 */
import { hostChunk, hostEndBody, hostFetchUpload, hostFetchUploadEnd } from '../bridge.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import {
  ObjectCreate,
  PromisePrototypeThen,
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
  const step = (): void => {
    if (stopped()) {
      delete readers[sink.key];
      PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
      return;
    }
    PromisePrototypeThen(
      streams.read(reader),
      (result) => {
        if (stopped()) {
          delete readers[sink.key];
          PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
          return;
        }
        if (result.done) {
          delete readers[sink.key];
          sink.end();
          finished(null);
          return;
        }
        const bytes = chunkBytes(result.value);
        if (bytes === null) {
          delete readers[sink.key];
          const error = new TypeError('The body stream produced a chunk that is not a Uint8Array.');
          PromisePrototypeThen(streams.cancel(reader, error), undefined, () => {});
          finished(error);
          return;
        }
        if (TypedArrayPrototypeGetByteLength(bytes) === 0) {
          step();
          return;
        }
        const wantsMore = sink.chunk(TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer);
        if (wantsMore) step();
        else paused[sink.key] = step;
      },
      (error: unknown) => {
        delete readers[sink.key];
        finished(error);
      },
    );
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
  const key = `r${id}`;
  const reader = readers[key];
  delete paused[key];
  delete readers[key];
  if (reader !== undefined) PromisePrototypeThen(loadStreams().cancel(reader, reason), undefined, () => {});
}

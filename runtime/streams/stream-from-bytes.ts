/**
 * A ReadableStream over bytes already held, as a body's stream is made
 * (https://fetch.spec.whatwg.org/#concept-bodyinit-extract: "set up stream with byte reading
 * support", then enqueue the bytes and close), so `getReader({ mode: 'byob' })` works on it too.
 */
import { ObjectSetPrototypeOf, TypedArrayPrototypeGetByteLength, WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet } from '../primordials.ts';
import { copyBytes } from '../encoding/buffer-source.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

/** The bytes each stream made here holds, so a body handed on untouched can be sent without reading it. */
const held = new WeakMapCtor<object, Uint8Array<ArrayBuffer>>();

export function streamFromBytes(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  const streams = loadStreams();
  // A null-prototype source: the library reads `pull`, `cancel`, … off it, and a worker may have
  // put such properties on Object.prototype.
  const source = {
    type: 'bytes' as const,
    start(controller: Parameters<typeof streams.enqueueBytes>[0]) {
      // enqueue() transfers the chunk's buffer, so it gets its own copy; the held bytes stay intact
      // (clones share them). An empty body has no chunk: a zero-length chunk is a TypeError.
      if (TypedArrayPrototypeGetByteLength(bytes) > 0) streams.enqueueBytes(controller, copyBytes(bytes));
      streams.closeBytes(controller);
    },
  };
  ObjectSetPrototypeOf(source, null);
  const stream = new streams.api.ReadableStream(source) as ReadableStream<Uint8Array>;
  WeakMapPrototypeSet(held, stream, bytes);
  return stream;
}

/** The bytes `stream` was made from, if streamFromBytes() made it (whether or not it was read since). */
export function heldBytesOf(stream: object): Uint8Array<ArrayBuffer> | null {
  return WeakMapPrototypeGet(held, stream) ?? null;
}

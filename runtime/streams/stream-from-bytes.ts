/**
 * A ReadableStream over bytes already held, as a body's stream is made
 * (https://fetch.spec.whatwg.org/#concept-bodyinit-extract: "set up stream with byte reading
 * support", then enqueue the bytes and close), so `getReader({ mode: 'byob' })` works on it too.
 */
import { ObjectSetPrototypeOf, TypedArrayPrototypeGetByteLength } from '../primordials.ts';
import { copyBytes } from '../encoding/buffer-source.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

export function streamFromBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
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
  return new streams.api.ReadableStream(source) as ReadableStream<Uint8Array>;
}

/**
 * https://streams.spec.whatwg.org/#readablestreamdefaultreader-read-all-bytes, as used by
 * https://fetch.spec.whatwg.org/#body-fully-read: every chunk must be a Uint8Array; the bytes are
 * copied as each chunk is read (the worker may reuse a chunk's buffer after enqueueing it).
 */
import { concatBytes } from '../encoding/concat-bytes.ts';
import {
  PromiseCtor,
  PromisePrototypeThen,
  TypedArrayPrototypeGetSymbolToStringTag,
} from '../primordials.ts';
import { copyBytes } from '../encoding/buffer-source.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

/** Reads `stream` to its end (the stream is locked to a reader from now on). */
export function readAllBytes(stream: ReadableStream<unknown>): Promise<Uint8Array<ArrayBuffer>> {
  const streams = loadStreams();
  const reader = streams.getReader(stream);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  return new PromiseCtor((resolve, reject) => {
    const step = (): void => {
      PromisePrototypeThen(
        streams.read(reader),
        (result) => {
          if (result.done) {
            // The chunks are copies already: one of them can be the result as it is.
            resolve(chunks.length === 1 ? chunks[0]! : concatBytes(chunks));
            return;
          }
          const chunk = result.value;
          if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== 'Uint8Array') {
            reject(new TypeError('The body stream produced a chunk that is not a Uint8Array.'));
            return;
          }
          const copy = copyBytes(chunk as Uint8Array);
          chunks[chunks.length] = copy;
          step();
        },
        reject,
      );
    };
    step();
  });
}


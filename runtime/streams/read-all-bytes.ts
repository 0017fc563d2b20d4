/**
 * https://streams.spec.whatwg.org/#readablestreamdefaultreader-read-all-bytes, as used by
 * https://fetch.spec.whatwg.org/#body-fully-read: every chunk must be a Uint8Array; the bytes are
 * copied as each chunk is read (the worker may reuse a chunk's buffer after enqueueing it).
 */
import {
  PromiseCtor,
  PromisePrototypeThen,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeSet,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { copyBytes } from '../encoding/buffer-source.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

/**
 * Reads `stream` to its end (the stream is locked to a reader from now on). `stopped`, when given, is
 * asked after every chunk: once it says true the stream is cancelled and the promise never settles.
 */
export function readAllBytes(stream: ReadableStream<unknown>, stopped?: () => boolean): Promise<Uint8Array<ArrayBuffer>> {
  const streams = loadStreams();
  const reader = streams.getReader(stream);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  return new PromiseCtor((resolve, reject) => {
    const step = (): void => {
      PromisePrototypeThen(
        streams.read(reader),
        (result) => {
          if (stopped !== undefined && stopped()) {
            PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
            return;
          }
          if (result.done) {
            resolve(concat(chunks, total));
            return;
          }
          const chunk = result.value;
          if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== 'Uint8Array') {
            reject(new TypeError('The body stream produced a chunk that is not a Uint8Array.'));
            return;
          }
          const copy = copyBytes(chunk as Uint8Array);
          chunks[chunks.length] = copy;
          total += TypedArrayPrototypeGetByteLength(copy);
          step();
        },
        reject,
      );
    };
    step();
  });
}

function concat(chunks: Uint8Array<ArrayBuffer>[], total: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    TypedArrayPrototypeSet(out, chunks[i]!, offset);
    offset += TypedArrayPrototypeGetByteLength(chunks[i]!);
  }
  return out;
}

/**
 * Workers' byte transform streams (https://developers.cloudflare.com/workers/runtime-apis/streams/transformstream/):
 * IdentityTransformStream passes bytes through; FixedLengthStream does too, and errors when more or
 * fewer than its length are written. Built on the streams chunk's TransformStream when first used.
 */
import { defineLazyGlobal, setName } from '../global/define.ts';
import { bufferSourceBytes } from '../encoding/buffer-source.ts';
import { ReflectApply, ReflectGetOwnPropertyDescriptor, TypedArrayPrototypeGetByteLength } from '../primordials.ts';
import { setKnownLength } from '../streams/known-length.ts';
import { loadStreams } from '../streams/web-streams.ts';

type Controller = { enqueue(chunk: unknown): void; error(reason: unknown): void };

let classes: { IdentityTransformStream: Function; FixedLengthStream: Function } | null = null;

function load(): NonNullable<typeof classes> {
  if (classes !== null) return classes;
  const TransformStream = loadStreams().api.TransformStream as unknown as new (transformer?: object) => object;
  const readableOf = ReflectGetOwnPropertyDescriptor(TransformStream.prototype, 'readable')!.get as (this: object) => object;

  const bytesOf = (chunk: unknown): Uint8Array => {
    const bytes = bufferSourceBytes(chunk, false);
    if (bytes === null) throw new TypeError('This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.');
    return bytes;
  };

  class IdentityTransformStream extends TransformStream {
    constructor() {
      super({ transform: (chunk: unknown, controller: Controller) => controller.enqueue(bytesOf(chunk)) });
    }
  }

  class FixedLengthStream extends TransformStream {
    constructor(expectedLength: unknown) {
      const length = Number(expectedLength);
      if (!Number.isSafeInteger(length) || length < 0) throw new TypeError('FixedLengthStream requires a non-negative integer length.');
      let written = 0;
      super({
        transform: (chunk: unknown, controller: Controller) => {
          const bytes = bytesOf(chunk);
          written += TypedArrayPrototypeGetByteLength(bytes);
          if (written > length) throw new TypeError(`Attempt to write too many bytes through a FixedLengthStream of ${length} bytes.`);
          controller.enqueue(bytes);
        },
        flush: () => {
          if (written < length) throw new TypeError(`FixedLengthStream did not see all expected bytes before close(): ${written} of ${length}.`);
        },
      });
      // fetch() sends its readable side with this length (streams/known-length.ts).
      setKnownLength(ReflectApply(readableOf, this, []), length);
    }
  }

  setName(IdentityTransformStream, 'IdentityTransformStream');
  setName(FixedLengthStream, 'FixedLengthStream');
  classes = { IdentityTransformStream, FixedLengthStream };
  return classes;
}

export function installWorkersStreamGlobals(): void {
  defineLazyGlobal('IdentityTransformStream', () => load().IdentityTransformStream);
  defineLazyGlobal('FixedLengthStream', () => load().FixedLengthStream);
}

/**
 * TextEncoderStream (https://encoding.spec.whatwg.org/#interface-textencoderstream): a
 * GenericTransformStream (readable and writable sides, not a TransformStream subclass) that
 * encodes string chunks to UTF-8. A surrogate pair split across two chunks is kept whole; a lone
 * leading surrogate left at the end becomes U+FFFD.
 */
import { ObjectSetPrototypeOf, StringPrototypeCharCodeAt, StringPrototypeSlice, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { type ReadableStream, type TransformStream, type TransformStreamDefaultController, type WritableStream, loadStreams } from '../streams/web-streams.ts';
import { utf8Encode } from './utf8.ts';

const REPLACEMENT_BYTES = [0xef, 0xbf, 0xbd];

export class TextEncoderStream {
  #transform: TransformStream<string, Uint8Array>;

  // https://encoding.spec.whatwg.org/#dom-textencoderstream
  constructor() {
    const streams = loadStreams();
    /** https://encoding.spec.whatwg.org/#textencoderstream-pending-high-surrogate, or '' for null. */
    let pending = '';
    const transformer = {
      // https://encoding.spec.whatwg.org/#encode-and-enqueue-a-chunk
      transform(chunk: unknown, controller: TransformStreamDefaultController<Uint8Array>) {
        // 1. Let input be the result of converting chunk to a DOMString.
        let input = pending + `${chunk as string}`;
        pending = '';
        // A trailing lead surrogate waits for the next chunk's trail surrogate.
        const last = input.length > 0 ? StringPrototypeCharCodeAt(input, input.length - 1) : 0;
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = StringPrototypeSlice(input, input.length - 1);
          input = StringPrototypeSlice(input, 0, input.length - 1);
        }
        // Lone surrogates left in input become U+FFFD in utf8Encode.
        const bytes = utf8Encode(input);
        // Only non-empty output is enqueued.
        if (TypedArrayPrototypeGetLength(bytes) > 0) streams.enqueue(controller, bytes);
      },
      // https://encoding.spec.whatwg.org/#encode-and-flush
      flush(controller: TransformStreamDefaultController<Uint8Array>) {
        if (pending !== '') streams.enqueue(controller, new Uint8ArrayCtor(REPLACEMENT_BYTES));
      },
    };
    ObjectSetPrototypeOf(transformer, null);
    this.#transform = new streams.api.TransformStream(transformer) as TransformStream<string, Uint8Array>;
  }

  get encoding(): 'utf-8' {
    this.#transform; // brand check
    return 'utf-8';
  }

  get readable(): ReadableStream<Uint8Array> {
    return loadStreams().readableOf(this.#transform) as ReadableStream<Uint8Array>;
  }

  get writable(): WritableStream<string> {
    return loadStreams().writableOf(this.#transform) as WritableStream<string>;
  }
}
nameClass(TextEncoderStream, 'TextEncoderStream');

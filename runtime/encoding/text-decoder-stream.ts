/**
 * TextDecoderStream (https://encoding.spec.whatwg.org/#interface-textdecoderstream): a
 * GenericTransformStream that decodes UTF-8 chunks with a TextDecoder in streaming mode, so a
 * character whose bytes are split across chunks comes out whole.
 */
import { ObjectFreeze, ObjectSetPrototypeOf, ReflectGetOwnPropertyDescriptor, uncurryThis } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { type ReadableStream, type TransformStream, type TransformStreamDefaultController, type WritableStream, loadStreams } from '../streams/web-streams.ts';
import { bufferSourceBytes } from './buffer-source.ts';
import { TextDecoder } from './text-decoder.ts';

// Captured before tenant code runs: a worker may replace TextDecoder.prototype's members.
const decode = uncurryThis(TextDecoder.prototype.decode);
const getEncoding = uncurryThis(ReflectGetOwnPropertyDescriptor(TextDecoder.prototype, 'encoding')!.get as (this: TextDecoder) => string);
const getFatal = uncurryThis(ReflectGetOwnPropertyDescriptor(TextDecoder.prototype, 'fatal')!.get as (this: TextDecoder) => boolean);
const getIgnoreBOM = uncurryThis(ReflectGetOwnPropertyDescriptor(TextDecoder.prototype, 'ignoreBOM')!.get as (this: TextDecoder) => boolean);

const STREAM = ObjectFreeze({ stream: true });

export class TextDecoderStream {
  #decoder: TextDecoder;
  #transform: TransformStream<ArrayBufferView | ArrayBuffer, string>;

  // https://encoding.spec.whatwg.org/#dom-textdecoderstream
  constructor(label: unknown = 'utf-8', options: unknown = {}) {
    // 1-4. The label and options are checked as TextDecoder's are.
    const decoder = new TextDecoder(label, options as ConstructorParameters<typeof TextDecoder>[1]);
    const streams = loadStreams();
    const transformer = {
      // https://encoding.spec.whatwg.org/#decode-and-enqueue-a-chunk
      transform(chunk: unknown, controller: TransformStreamDefaultController<string>) {
        // 1. Let bufferSource be the result of converting chunk to an AllowSharedBufferSource.
        const bytes = bufferSourceBytes(chunk, true);
        if (bytes === null) {
          throw new TypeError("Failed to execute 'transform' on 'TextDecoderStream': chunk is not an ArrayBuffer or ArrayBufferView.");
        }
        // 2-5. Decode in streaming mode (a fatal error is a TypeError that errors the stream).
        const output = decode(decoder, bytes, STREAM);
        if (output !== '') streams.enqueue(controller, output);
      },
      // https://encoding.spec.whatwg.org/#flush-and-enqueue
      flush(controller: TransformStreamDefaultController<string>) {
        const output = decode(decoder);
        if (output !== '') streams.enqueue(controller, output);
      },
    };
    ObjectSetPrototypeOf(transformer, null);
    this.#decoder = decoder;
    this.#transform = new streams.api.TransformStream(transformer) as TransformStream<ArrayBufferView | ArrayBuffer, string>;
  }

  get encoding(): string {
    return getEncoding(this.#decoder);
  }

  get fatal(): boolean {
    return getFatal(this.#decoder);
  }

  get ignoreBOM(): boolean {
    return getIgnoreBOM(this.#decoder);
  }

  get readable(): ReadableStream<string> {
    return loadStreams().readableOf(this.#transform) as ReadableStream<string>;
  }

  get writable(): WritableStream<ArrayBufferView | ArrayBuffer> {
    return loadStreams().writableOf(this.#transform) as WritableStream<ArrayBufferView | ArrayBuffer>;
  }
}
nameClass(TextDecoderStream, 'TextDecoderStream');

/**
 * CompressionStream and DecompressionStream (https://compression.spec.whatwg.org/): GenericTransformStreams
 * from BufferSource chunks to Uint8Array chunks, over the codecs of codecs.ts (fflate). Defined on first
 * use of either global (global/lazy-globals.ts); fflate itself is evaluated when the first stream is made.
 */
import { ObjectSetPrototypeOf, TypedArrayPrototypeGetLength } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { type ReadableStream, type TransformStream, type TransformStreamDefaultController, type WritableStream, loadStreams } from '../streams/web-streams.ts';
import { Compressor, Decompressor, type Format, toFormat } from './codecs.ts';

type Controller = TransformStreamDefaultController<Uint8Array>;
type BufferSource = ArrayBufferView | ArrayBuffer;

interface Codec {
  push(bytes: Uint8Array): Uint8Array[];
  finish(): Uint8Array[];
}

/** A TransformStream that runs `codec` on each BufferSource chunk and enqueues what comes out. */
function codecTransform(codec: Codec, what: string, copyInput: boolean): TransformStream<BufferSource, Uint8Array> {
  const streams = loadStreams();
  const enqueueAll = (controller: Controller, chunks: Uint8Array[]) => {
    for (let i = 0; i < chunks.length; i++) streams.enqueue(controller as TransformStreamDefaultController<unknown>, chunks[i]!);
  };
  // A null-prototype transformer: the library reads start, transform, flush, … off it.
  const transformer = {
    // https://compression.spec.whatwg.org/#compress-and-enqueue-a-chunk (and decompress-…)
    transform(chunk: unknown, controller: Controller) {
      // 1. Not a BufferSource: a TypeError, which errors the stream.
      const bytes = bufferSourceBytes(chunk, false);
      if (bytes === null) throw new TypeError(`Failed to execute 'transform' on '${what}': chunk is not a BufferSource.`);
      if (TypedArrayPrototypeGetLength(bytes) === 0) return;
      // The decompressor may keep its input: it gets a copy, which later writes to the chunk cannot reach.
      enqueueAll(controller, codec.push(copyInput ? copyBytes(bytes) : bytes));
    },
    // https://compression.spec.whatwg.org/#compress-flush-and-enqueue (and decompress-…)
    flush(controller: Controller) {
      enqueueAll(controller, codec.finish());
    },
  };
  ObjectSetPrototypeOf(transformer, null);
  return new streams.api.TransformStream(transformer) as TransformStream<BufferSource, Uint8Array>;
}

/** The format argument as the CompressionFormat enum converts it; a TypeError when it is not one. */
function formatOf(value: unknown, what: string, count: number): Format {
  if (count === 0) throw new TypeError(`Failed to construct '${what}': 1 argument required, but only 0 present.`);
  const string = `${value as string}`;
  const format = toFormat(string);
  if (format === null) {
    throw new TypeError(`Failed to construct '${what}': Unsupported compression format: '${string}'. Use 'gzip', 'deflate' or 'deflate-raw'.`);
  }
  return format;
}

function defineCompression() {
  class CompressionStream {
    #transform: TransformStream<BufferSource, Uint8Array>;

    // https://compression.spec.whatwg.org/#dom-compressionstream-compressionstream
    constructor(format: unknown) {
      this.#transform = codecTransform(new Compressor(formatOf(format, 'CompressionStream', arguments.length)), 'CompressionStream', false);
    }

    get readable(): ReadableStream<Uint8Array> {
      return loadStreams().readableOf(this.#transform) as ReadableStream<Uint8Array>;
    }

    get writable(): WritableStream<BufferSource> {
      return loadStreams().writableOf(this.#transform) as WritableStream<BufferSource>;
    }
  }
  nameClass(CompressionStream, 'CompressionStream');

  class DecompressionStream {
    #transform: TransformStream<BufferSource, Uint8Array>;

    // https://compression.spec.whatwg.org/#dom-decompressionstream-decompressionstream
    constructor(format: unknown) {
      this.#transform = codecTransform(new Decompressor(formatOf(format, 'DecompressionStream', arguments.length)), 'DecompressionStream', true);
    }

    get readable(): ReadableStream<Uint8Array> {
      return loadStreams().readableOf(this.#transform) as ReadableStream<Uint8Array>;
    }

    get writable(): WritableStream<BufferSource> {
      return loadStreams().writableOf(this.#transform) as WritableStream<BufferSource>;
    }
  }
  nameClass(DecompressionStream, 'DecompressionStream');

  return { CompressionStream, DecompressionStream };
}

type CompressionApi = ReturnType<typeof defineCompression>;

let api: CompressionApi | null = null;

/** Defined on first use (global/lazy-globals.ts). */
export function loadCompression(): CompressionApi {
  return (api ??= defineCompression());
}

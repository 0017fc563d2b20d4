/**
 * `node:zlib` for workers with the nodejs_compat flag: deflate, inflate, deflateRaw, inflateRaw, gzip,
 * gunzip and unzip, each synchronous (`gzipSync`), with a callback (`gzip(buffer, cb)`, which
 * util.promisify turns into a promise) and as a stream (`createGzip()`), plus `crc32` and `constants`.
 * Not Brotli, nor `flush()`/`params()` on streams.
 *
 * The codecs are the runtime's own, those of CompressionStream (runtime/compression/codecs.ts, over
 * fflate), with Node's rules on top: gunzip reads concatenated members and ignores zero padding, inflate
 * ignores what follows the data, and a failure is an Error with Node's `code` and `errno`
 * (Z_DATA_ERROR "incorrect header check", "incorrect data check", "incorrect length check", or
 * fflate's word for bad data such as "invalid block type"; Z_BUF_ERROR "unexpected end of file"). Compressed bytes need not equal Node's (another deflate implementation), only decompress to the
 * same. `level` is honoured; `windowBits`, `memLevel`, `strategy` and `chunkSize` are checked and
 * otherwise ignored. Built as the `node-zlib` chunk (src/isolates/runtime-bundle.ts); it runs with the
 * worker's own globals, like an npm library.
 */

import { nodeError } from './node-error.ts';

type Format = 'deflate' | 'deflate-raw' | 'gzip';
type Trailing = 'error' | 'ignore' | 'members';

interface Codec {
  push(bytes: Uint8Array): Uint8Array[];
  finish(): Uint8Array[];
}

interface BufferClass {
  from(buffer: ArrayBufferLike, byteOffset?: number, length?: number): Uint8Array;
  from(text: string): Uint8Array;
  concat(list: Uint8Array[], length?: number): Uint8Array;
}

interface TransformClass {
  new (options?: object): {
    push(chunk: unknown): boolean;
    destroy(error?: Error): unknown;
  };
}

export interface ZlibPlatform {
  Compressor: new (format: Format, level?: number) => Codec;
  Decompressor: new (format: Format, trailing?: Trailing, maxOutput?: number) => Codec;
  crc32(crc: number, bytes: Uint8Array): number;
  Buffer: BufferClass;
  Transform: TransformClass;
  /** Runs `callback` after the current task (a 0 ms timer of the invocation). */
  later(callback: () => void): void;
}

const CONSTANTS = {
  Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3, Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4, Z_DEFAULT_STRATEGY: 0,
  DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7,
  Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
  Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384,
  Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8,
  Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
};

/** What each kind does: compress to, or decompress from, which format (unzip: gzip or zlib, by its header). */
const KINDS = {
  deflate: { compress: true, format: 'deflate' },
  inflate: { compress: false, format: 'deflate' },
  deflateRaw: { compress: true, format: 'deflate-raw' },
  inflateRaw: { compress: false, format: 'deflate-raw' },
  gzip: { compress: true, format: 'gzip' },
  gunzip: { compress: false, format: 'gzip' },
  unzip: { compress: false, format: null },
} as const;
type Kind = keyof typeof KINDS;

interface Options {
  level?: number;
  maxOutputLength: number;
}

function received(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`;
  if (typeof value === 'object' || typeof value === 'function') return `Received an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  return `Received type ${typeof value} (${String(value)})`;
}

/** The option `name`, if given: an integer from `min` to `max` (Node's checks and errors). */
function integerOption(options: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.${name}" property must be of type number. ${received(value)}`);
  if (!(value >= min && value <= max) || (Number.isFinite(value) && !Number.isInteger(value))) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "options.${name}" is out of range. It must be >= ${min} and <= ${max}. Received ${value}`);
  }
  return value;
}

function checkOptions(options: unknown): Options {
  if (options === undefined || options === null) return { maxOutputLength: Infinity };
  if (typeof options !== 'object') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. ${received(options)}`);
  const given = options as Record<string, unknown>;
  integerOption(given, 'windowBits', 0, 15);
  integerOption(given, 'memLevel', 1, 9);
  integerOption(given, 'strategy', 0, 4);
  integerOption(given, 'chunkSize', 64, Infinity);
  const level = integerOption(given, 'level', -1, 9);
  const maxOutputLength = integerOption(given, 'maxOutputLength', 1, 2 ** 53 - 1) ?? Infinity;
  return { level: level === -1 ? undefined : level, maxOutputLength };
}

/** Node's Error for a failure of the runtime's decompressor (its `reason`, codecs.ts). */
function zlibError(error: unknown): unknown {
  const { reason, detail } = (error ?? {}) as { reason?: string; detail?: string };
  if (reason === undefined) return error;
  if (reason === 'end') return Object.assign(new Error('unexpected end of file'), { errno: -5, code: 'Z_BUF_ERROR' });
  const message = reason === 'checksum' ? 'incorrect data check' : reason === 'length' ? 'incorrect length check' : reason === 'data' ? (detail ?? 'invalid data') : 'incorrect header check';
  return Object.assign(new Error(message), { errno: -3, code: 'Z_DATA_ERROR' });
}

export function makeZlib(platform: ZlibPlatform): Record<string, unknown> {
  const { Buffer } = platform;

  function bytesOf(input: unknown, name = 'buffer'): Uint8Array {
    if (typeof input === 'string') return Buffer.from(input);
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. ${received(input)}`);
  }

  const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  /** A codec for `kind`; unzip's is chosen by the first two bytes, so it is made on the first push. */
  /** `limit`: the most a decompression may output (the convenience methods' maxOutputLength; streams have none, as in Node). */
  function codecFor(kind: Kind, options: Options, limit = Infinity): Codec {
    const { compress, format } = KINDS[kind];
    if (compress) return new platform.Compressor(format!, options.level);
    if (format !== null) return new platform.Decompressor(format, format === 'gzip' ? 'members' : 'ignore', limit);
    let chosen: Codec | null = null;
    let start: Uint8Array = new Uint8Array(0);
    return {
      push(bytes) {
        if (chosen !== null) return chosen.push(bytes);
        start = start.length === 0 ? bytes : Buffer.concat([start, bytes]);
        if (start.length < 2) return [];
        const gzip = start[0] === 0x1f && start[1] === 0x8b;
        chosen = new platform.Decompressor(gzip ? 'gzip' : 'deflate', gzip ? 'members' : 'ignore', limit);
        return chosen.push(start);
      },
      finish() {
        // Too short to tell: what Node's unzip says of it.
        return chosen === null ? new platform.Decompressor('deflate', 'ignore', limit).finish() : chosen.finish();
      },
    };
  }

  function tooLarge(checked: Options): Error {
    return nodeError(RangeError, 'ERR_BUFFER_TOO_LARGE', `Cannot create a Buffer larger than ${checked.maxOutputLength} bytes`);
  }

  /** The whole of `bytes` through `kind`'s codec, as one Buffer. */
  function run(kind: Kind, bytes: Uint8Array, checked: Options): Uint8Array {
    let chunks: Uint8Array[];
    try {
      const codec = codecFor(kind, checked, checked.maxOutputLength);
      chunks = [...codec.push(bytes), ...codec.finish()];
    } catch (error) {
      throw (error as { reason?: string } | null)?.reason === 'tooLarge' ? tooLarge(checked) : zlibError(error);
    }
    let total = 0;
    for (const chunk of chunks) total += chunk.byteLength;
    if (total > checked.maxOutputLength) throw tooLarge(checked);
    return chunks.length === 1 ? asBuffer(chunks[0]!) : Buffer.concat(chunks, total);
  }

  /** `kind(buffer, [options], callback)`: the callback runs after the current task, as Node's does. */
  function runWithCallback(kind: Kind, input: unknown, options: unknown, callback: unknown): void {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (typeof callback !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. ${received(callback)}`);
    // Bad arguments throw at once; what the data does reaches the callback.
    const checked = checkOptions(options);
    const bytes = bytesOf(input);
    let result: Uint8Array | null = null;
    let failure: unknown = null;
    try {
      result = run(kind, bytes, checked);
    } catch (error) {
      failure = error;
    }
    platform.later(() => (failure !== null ? (callback as (error: unknown) => void)(failure) : (callback as (error: null, result: Uint8Array) => void)(null, result!)));
  }

  /** The stream classes: Transforms whose chunks go through the codec. */
  function streamClass(kind: Kind, name: string) {
    const Base = platform.Transform;
    class ZlibStream extends Base {
      bytesWritten = 0;
      readonly #codec: Codec;
      constructor(options?: unknown) {
        const checked = checkOptions(options);
        super();
        this.#codec = codecFor(kind, checked);
      }
      _transform(chunk: unknown, _encoding: string, done: (error?: unknown) => void): void {
        try {
          const bytes = bytesOf(chunk, 'chunk');
          this.bytesWritten += bytes.byteLength;
          for (const out of this.#codec.push(bytes)) this.push(asBuffer(out));
          done();
        } catch (error) {
          done(zlibError(error));
        }
      }
      _flush(done: (error?: unknown) => void): void {
        try {
          for (const out of this.#codec.finish()) this.push(asBuffer(out));
          done();
        } catch (error) {
          done(zlibError(error));
        }
      }
      close(callback?: () => void): void {
        this.destroy();
        if (typeof callback === 'function') platform.later(callback);
      }
    }
    Object.defineProperty(ZlibStream, 'name', { value: name });
    return ZlibStream;
  }

  const zlib: Record<string, unknown> = {
    constants: Object.freeze({ ...CONSTANTS }),
    crc32(data: unknown, value: unknown = 0): number {
      if (typeof value !== 'number') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "value" argument must be of type number. ${received(value)}`);
      return platform.crc32(value >>> 0, bytesOf(data, 'data')) >>> 0;
    },
  };
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const className = kind === 'deflateRaw' ? 'DeflateRaw' : kind === 'inflateRaw' ? 'InflateRaw' : kind[0]!.toUpperCase() + kind.slice(1);
    const Stream = streamClass(kind, className);
    zlib[kind] = (input: unknown, options: unknown, callback?: unknown) => runWithCallback(kind, input, options, callback);
    zlib[`${kind}Sync`] = (input: unknown, options?: unknown) => {
      const checked = checkOptions(options);
      return run(kind, bytesOf(input), checked);
    };
    zlib[className] = Stream;
    zlib[`create${className}`] = (options?: unknown) => new Stream(options);
  }
  return zlib;
}

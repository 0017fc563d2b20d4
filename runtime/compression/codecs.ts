/**
 * The compressors and decompressors behind CompressionStream and DecompressionStream, for the formats
 * of the Compression Standard (https://compression.spec.whatwg.org/#supported-formats): "deflate"
 * (zlib, RFC 1950), "deflate-raw" (RFC 1951) and "gzip" (RFC 1952).
 *
 * Compression is fflate's streaming Zlib, Deflate and Gzip. Decompression runs fflate's streaming raw
 * Inflate on the DEFLATE data and reads the zlib and gzip wrappers here, because the standard asks for
 * more than fflate's Unzlib and Gunzip do: a checksum that does not match (Adler-32, CRC-32 and length)
 * is an error, and so is any data after the end of the compressed stream (Gunzip would read it as
 * another gzip member, Unzlib would not notice it). Every failure is a TypeError.
 *
 * Both only ever get bytes the runtime owns (copies), and hand out Uint8Arrays over buffers of their own.
 */
import { CONFIGURABLE, defineValue, MathMin, TypeErrorCtor, WRITABLE, ObjectSetPrototypeOf, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeGetLength, ArrayBufferPrototypeGetByteLength, Uint8ArrayCtor } from '../primordials.ts';
import { concatBytes } from '../encoding/concat-bytes.ts';
import { copyBytes, subarray } from '../encoding/buffer-source.ts';
import { loadChunk } from '../chunks.ts';
import type { GzipOptions } from 'fflate';
import { adler32, crc32 } from './checksums.ts';

export type Format = 'deflate' | 'deflate-raw' | 'gzip';

type Fflate = typeof import('./fflate.ts');

/** fflate, a runtime chunk loaded on first use (see fflate.ts). */
function loadFflate(): Fflate {
  return loadChunk<Fflate>('fflate');
}

/** https://compression.spec.whatwg.org/#enumdef-compressionformat */
export function toFormat(value: string): Format | null {
  return value === 'deflate' || value === 'deflate-raw' || value === 'gzip' ? value : null;
}

const EMPTY = new Uint8ArrayCtor(0);

/** `bytes` itself when it spans its whole buffer, else a copy that does. */
function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const buffer = TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer;
  const whole = TypedArrayPrototypeGetByteOffset(bytes) === 0 && TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(buffer);
  return whole ? (bytes as Uint8Array<ArrayBuffer>) : copyBytes(bytes);
}

interface Streaming {
  push(chunk: Uint8Array, final?: boolean): void;
}

export class Compressor {
  #impl: Streaming;
  readonly #out: Uint8Array<ArrayBuffer>[] = [];

  /** `level`: 0 (stored) to 9; fflate's default (6) when not given. */
  constructor(format: Format, level?: number) {
    const api = loadFflate();
    const out = this.#out;
    const ondata = (data: Uint8Array, _final: boolean) => {
      if (TypedArrayPrototypeGetLength(data) > 0) out[out.length] = owned(data);
    };
    // Null-prototype options (fflate reads level, mem, dictionary, filename and mtime off them); a gzip
    // header with no modification time, as browsers write it.
    const options: GzipOptions = format === 'gzip' ? { mtime: 0 } : {};
    ObjectSetPrototypeOf(options, null);
    if (level !== undefined) options.level = level as GzipOptions['level'];
    this.#impl = format === 'gzip' ? new api.Gzip(options, ondata) : format === 'deflate' ? new api.Zlib(options, ondata) : new api.Deflate(options, ondata);
  }

  /** Compresses `bytes` (only read during the call); what came out so far. */
  push(bytes: Uint8Array): Uint8Array<ArrayBuffer>[] {
    this.#impl.push(bytes, false);
    return this.#take();
  }

  /** The end of the compressed stream. */
  finish(): Uint8Array<ArrayBuffer>[] {
    this.#impl.push(EMPTY, true);
    return this.#take();
  }

  #take(): Uint8Array<ArrayBuffer>[] {
    return takeAll(this.#out);
  }
}

/** What `out` holds, moved to a new array: the fflate callbacks keep appending to `out` itself. */
function takeAll(out: Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer>[] {
  const taken: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < out.length; i++) taken[i] = out[i]!;
  out.length = 0;
  return taken;
}

/** fflate's Inflate with the state it keeps (fflate 0.8.3 is pinned; compression.test.ts covers it). */
interface Inflater extends Streaming {
  /** Input not yet consumed (a copy fflate made, or the last chunk pushed). */
  p: Uint8Array;
  /** f: the final block has started; l: a block's code tables, null between blocks; p: bit position in `p`. */
  s: { f?: number; l?: unknown; p?: number };
}

const HEADER = 0;
const BODY = 1;
const TRAILER = 2;
const DONE = 3;

/** What went wrong, for node:zlib's errors: the header, the data, a checksum, gzip's length, or an early end. */
export type DecompressFailure = 'header' | 'data' | 'checksum' | 'length' | 'end' | 'tooLarge';

/** A TypeError (the Compression Standard's), with the `reason` (and, for bad data, fflate's `detail`). */
function fail(message: string, reason: DecompressFailure, detail?: string): never {
  const error = new TypeErrorCtor(`Failed to decompress: ${message}.`);
  defineValue(error, 'reason', reason, WRITABLE | CONFIGURABLE);
  if (detail !== undefined) defineValue(error, 'detail', detail, WRITABLE | CONFIGURABLE);
  throw error;
}

function readUint32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Index of the first 0 byte at or after `from`, or -1. */
function zeroAt(bytes: Uint8Array, from: number): number {
  const length = TypedArrayPrototypeGetLength(bytes);
  for (let i = from; i < length; i++) if (bytes[i] === 0) return i;
  return -1;
}

/** The length of the gzip member header at the start of `h`, -1 while incomplete (RFC 1952 §2.3). */
function gzipHeaderLength(h: Uint8Array): number {
  const length = TypedArrayPrototypeGetLength(h);
  if ((length > 0 && h[0] !== 0x1f) || (length > 1 && h[1] !== 0x8b)) fail('not gzip data (bad magic bytes)', 'header');
  if (length > 2 && h[2] !== 8) fail('unknown gzip compression method', 'header');
  if (length > 3 && (h[3]! & 0xe0) !== 0) fail('reserved gzip header flags set', 'header');
  if (length < 10) return -1;
  const flags = h[3]!;
  let pos = 10;
  if (flags & 4) {
    // FEXTRA: a two-byte length, then that many bytes.
    if (length < pos + 2) return -1;
    pos += 2 + (h[pos]! | (h[pos + 1]! << 8));
    if (length < pos) return -1;
  }
  // FNAME, then FCOMMENT: zero-terminated.
  for (let flag = 8; flag <= 16; flag += 8) {
    if (flags & flag) {
      const zero = zeroAt(h, pos);
      if (zero === -1) return -1;
      pos = zero + 1;
    }
  }
  if (flags & 2) {
    // FHCRC: the low 16 bits of the CRC-32 of the header so far.
    if (length < pos + 2) return -1;
    if ((crc32(0, subarray(h, 0, pos)) & 0xffff) !== (h[pos]! | (h[pos + 1]! << 8))) fail('gzip header checksum mismatch', 'header');
    pos += 2;
  }
  return pos;
}

/** The length of the zlib header at the start of `h` (2), -1 while incomplete (RFC 1950 §2.2). */
function zlibHeaderLength(h: Uint8Array): number {
  const length = TypedArrayPrototypeGetLength(h);
  if (length > 0 && ((h[0]! & 0x0f) !== 8 || h[0]! >> 4 > 7)) fail('not zlib data (unknown compression method or window size)', 'header');
  if (length < 2) return -1;
  if (((h[0]! << 8) | h[1]!) % 31 !== 0) fail('zlib header check failed', 'header');
  if (h[1]! & 0x20) fail('zlib data needs a preset dictionary', 'header');
  return 2;
}

/**
 * What follows the end of the compressed data: an error (the Compression Standard's streams), nothing
 * to read (node:zlib's inflate and inflateRaw), or more gzip members (node:zlib's gunzip, which also
 * ignores zero padding after a member).
 */
export type Trailing = 'error' | 'ignore' | 'members';

/** Compressed bytes fed at a time under an output limit (deflate's ratio is at most ~1032:1). */
const LIMITED_PIECE = 16 * 1024;

export class Decompressor {
  readonly #format: Format;
  readonly #trailing: Trailing;
  #phase = HEADER;
  /** Header or trailer bytes gathered until complete. */
  #pending: Uint8Array = EMPTY;
  #inflater: Inflater | null = null;
  /** CRC-32 (gzip) or Adler-32 (zlib) of the output so far. */
  #check = 0;
  /** The output's length modulo 2^32 (gzip). */
  #size = 0;
  readonly #out: Uint8Array<ArrayBuffer>[] = [];
  /** The most output it may make in all (node:zlib's maxOutputLength), and how much it made. */
  readonly #maxOutput: number;
  #produced = 0;

  constructor(format: Format, trailing: Trailing = 'error', maxOutput = Infinity) {
    this.#format = format;
    this.#trailing = trailing;
    this.#maxOutput = maxOutput;
    this.#startMember();
  }

  /** A new compressed stream: a gzip file may hold several, one after another. */
  #startMember(): void {
    this.#phase = this.#format === 'deflate-raw' ? BODY : HEADER;
    this.#check = this.#format === 'deflate' ? 1 : 0;
    this.#size = 0;
    const out = this.#out;
    // Null-prototype options, as the compressor's (fflate would read a `dictionary` off Object.prototype).
    const options = {};
    ObjectSetPrototypeOf(options, null);
    this.#inflater = new (loadFflate().Inflate)(options, (data: Uint8Array) => {
      if (TypedArrayPrototypeGetLength(data) === 0) return;
      // Stopped as the output passes the limit, not once all of it is made (a bomb inflates to gigabytes).
      this.#produced += TypedArrayPrototypeGetLength(data);
      if (this.#produced > this.#maxOutput) fail(`the output is larger than ${this.#maxOutput} bytes`, 'tooLarge');
      if (this.#format === 'gzip') {
        this.#check = crc32(this.#check, data);
        this.#size = (this.#size + TypedArrayPrototypeGetLength(data)) >>> 0;
      } else if (this.#format === 'deflate') {
        this.#check = adler32(this.#check, data);
      }
      out[out.length] = owned(data);
    }) as unknown as Inflater;
  }

  /** Decompresses `bytes` (which it may keep: the caller gives them up); what came out so far. */
  push(bytes: Uint8Array): Uint8Array<ArrayBuffer>[] {
    let data = bytes;
    for (;;) {
      if (this.#phase === HEADER) {
        const header = this.#gather(data);
        const length = this.#format === 'gzip' ? gzipHeaderLength(header) : zlibHeaderLength(header);
        if (length === -1) return this.#take();
        data = subarray(header, length);
        this.#pending = EMPTY;
        this.#phase = BODY;
      }
      if (this.#phase === BODY) {
        if (TypedArrayPrototypeGetLength(data) === 0) return this.#take();
        const inflater = this.#inflater!;
        try {
          // Under an output limit, fed in pieces: fflate inflates all it is given before it hands any of
          // it out, and 255 KB of a bomb made 256 MiB at once. A piece inflates to ~16 MB at most.
          const length = TypedArrayPrototypeGetLength(data);
          const piece = this.#maxOutput === Infinity ? length : LIMITED_PIECE;
          for (let at = 0; at < length; at += piece) inflater.push(at === 0 && piece >= length ? data : subarray(data, at, MathMin(at + piece, length)), false);
        } catch (error) {
          if (this.#produced > this.#maxOutput) throw error;
          fail(`invalid compressed data (${(error as Error).message})`, 'data', (error as Error).message);
        }
        // The final block has ended: what follows it is the trailer (or trailing data).
        if (!(inflater.s.f && !inflater.s.l)) return this.#take();
        data = subarray(inflater.p, (inflater.s.p ?? 0) & 7 ? 1 : 0);
        this.#inflater = null;
        this.#phase = this.#format === 'deflate-raw' ? DONE : TRAILER;
      }
      if (this.#phase === TRAILER) {
        const trailer = this.#gather(data);
        const length = this.#format === 'gzip' ? 8 : 4;
        if (TypedArrayPrototypeGetLength(trailer) < length) return this.#take();
        this.#verify(trailer);
        data = subarray(trailer, length);
        this.#pending = EMPTY;
        this.#phase = DONE;
      }
      if (TypedArrayPrototypeGetLength(data) === 0 || this.#trailing === 'ignore') return this.#take();
      if (this.#trailing === 'members' && data[0] === 0) return this.#take();
      // https://compression.spec.whatwg.org/#decompress-and-enqueue-a-chunk: input left after the end.
      if (this.#trailing === 'error') fail('data after the end of the compressed stream', 'header');
      this.#startMember();
    }
  }

  /** https://compression.spec.whatwg.org/#decompress-flush-and-enqueue: the stream must have ended. */
  finish(): Uint8Array<ArrayBuffer>[] {
    if (this.#phase !== DONE) fail('unexpected end of compressed data', 'end');
    return this.#take();
  }

  #gather(data: Uint8Array): Uint8Array {
    const pending = this.#pending;
    this.#pending = TypedArrayPrototypeGetLength(pending) === 0 ? data : concatBytes([pending, data]);
    return this.#pending;
  }

  #verify(trailer: Uint8Array): void {
    if (this.#format === 'gzip') {
      if (readUint32LE(trailer, 0) !== this.#check) fail('gzip checksum mismatch', 'checksum');
      if (readUint32LE(trailer, 4) !== this.#size) fail('gzip length mismatch', 'length');
    } else {
      const adler = ((trailer[0]! << 24) | (trailer[1]! << 16) | (trailer[2]! << 8) | trailer[3]!) >>> 0;
      if (adler !== this.#check) fail('zlib checksum mismatch', 'checksum');
    }
  }

  #take(): Uint8Array<ArrayBuffer>[] {
    return takeAll(this.#out);
  }
}

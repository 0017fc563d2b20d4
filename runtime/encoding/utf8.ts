/**
 * UTF-8 encoder and decoder (https://encoding.spec.whatwg.org/#utf-8). Shared by TextEncoder,
 * TextDecoder, bodies and the URL parser; V8 offers none of this in a bare context.
 */
import {
  ReflectApply,
  StringFromCharCode,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  Uint16ArrayCtor,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { hostDecodeUtf8 } from '../bridge.ts';
import { copyBytes, subarray } from './buffer-source.ts';
import { concatBytes } from './concat-bytes.ts';

/** How many UTF-8 bytes `input` takes; lone surrogates count as U+FFFD (3 bytes). */
export function utf8Length(input: string): number {
  const length = input.length;
  let size = length;
  for (let i = 0; i < length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c < 0x80) continue;
    if (c < 0x800) size += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length && isTrail(StringPrototypeCharCodeAt(input, i + 1))) {
      size += 2; // 4 bytes for 2 code units
      i++;
    } else size += 2;
  }
  return size;
}

function isTrail(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function isLead(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * https://encoding.spec.whatwg.org/#dom-textencoder-encodeinto: encode as much of `input` as fits in
 * `dest` without splitting a code point. Returns code units read and bytes written in `counts`.
 */
export function utf8EncodeInto(input: string, dest: Uint8Array, counts: { read: number; written: number }): void {
  const length = input.length;
  const capacity = TypedArrayPrototypeGetLength(dest);
  let read = 0;
  let written = 0;
  while (read < length) {
    let c = StringPrototypeCharCodeAt(input, read);
    let units = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = read + 1 < length ? StringPrototypeCharCodeAt(input, read + 1) : 0;
      if (c <= 0xdbff && isTrail(next)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else {
        c = 0xfffd; // lone surrogate: the USVString conversion replaces it
      }
    }
    if (c < 0x80) {
      if (written + 1 > capacity) break;
      dest[written++] = c;
    } else if (c < 0x800) {
      if (written + 2 > capacity) break;
      dest[written++] = 0xc0 | (c >> 6);
      dest[written++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      if (written + 3 > capacity) break;
      dest[written++] = 0xe0 | (c >> 12);
      dest[written++] = 0x80 | ((c >> 6) & 0x3f);
      dest[written++] = 0x80 | (c & 0x3f);
    } else {
      if (written + 4 > capacity) break;
      dest[written++] = 0xf0 | (c >> 18);
      dest[written++] = 0x80 | ((c >> 12) & 0x3f);
      dest[written++] = 0x80 | ((c >> 6) & 0x3f);
      dest[written++] = 0x80 | (c & 0x3f);
    }
    read += units;
  }
  counts.read = read;
  counts.written = written;
}

/** V8's encoder, from the host's addon (runtime/host.d.ts Natives); null when it was not built for this V8. */
let nativeEncode: ((input: string) => Uint8Array<ArrayBuffer>) | null = null;

export function useNativeUtf8Encode(fn: unknown): void {
  if (typeof fn === 'function') nativeEncode = fn as (input: string) => Uint8Array<ArrayBuffer>;
}

/** Code units per call of the native encoder: ~1-3 ms at most, and the CPU limit can stop in between. */
const NATIVE_PIECE = 1 << 20;
/** Shorter strings are encoded here: the call into the addon costs more than the loop (~0.2 µs for 16 bytes). */
const NATIVE_MIN = 64;

/** https://encoding.spec.whatwg.org/#utf-8-encode, into a buffer of exactly the right size. */
export function utf8Encode(input: string): Uint8Array<ArrayBuffer> {
  const encode = nativeEncode;
  if (encode === null || input.length < NATIVE_MIN) {
    const bytes = new Uint8ArrayCtor(utf8Length(input));
    utf8EncodeInto(input, bytes, { read: 0, written: 0 });
    return bytes;
  }
  const length = input.length;
  if (length <= NATIVE_PIECE) return encode(input);
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < length; ) {
    let end = start + NATIVE_PIECE < length ? start + NATIVE_PIECE : length;
    // Not between the two halves of a surrogate pair, which would encode as two U+FFFD.
    if (end < length && isLead(StringPrototypeCharCodeAt(input, end - 1))) end--;
    pieces[pieces.length] = encode(StringPrototypeSlice(input, start, end));
    start = end;
  }
  return concatBytes(pieces);
}

const CHUNK = 8192;

/**
 * A whole input this long or longer is decoded by V8's decoder (the loop below takes ~12 ns a byte),
 * in pieces of at most HOST_PIECE bytes cut at code point boundaries, so each call stays short (~1 ms)
 * and the CPU limit can stop in between: through the addon, in the isolate (utf8Decode); when fatal,
 * or without the addon, by the host (src/isolates/host-text.ts: a bridge call ~2-3 µs, then Node's
 * decoder, whose strings are the host's garbage).
 */
const HOST_DECODE_MIN = 1024;
const HOST_PIECE = 1024 * 1024;

/** V8's decoder in the isolate, from the host's addon (runtime/host.d.ts Natives); null when it was not built for this V8. */
let nativeDecode: ((bytes: Uint8Array) => string) | null = null;

export function useNativeUtf8Decode(fn: unknown): void {
  if (typeof fn === 'function') nativeDecode = fn as (bytes: Uint8Array) => string;
}

export function unitsToString(units: Uint16Array, length: number): string {
  const buffer = TypedArrayPrototypeGetBuffer(units);
  let out = '';
  for (let start = 0; start < length; start += CHUNK) {
    const end = start + CHUNK < length ? start + CHUNK : length;
    out += ReflectApply(StringFromCharCode, null, new Uint16ArrayCtor(buffer, start * 2, end - start) as never);
  }
  return out;
}

/**
 * The UTF-8 decoder of the Encoding Standard, as a resumable state machine so TextDecoder's
 * `stream` option can split input anywhere (https://encoding.spec.whatwg.org/#utf-8-decoder).
 */
export class Utf8Decoder {
  #codePoint = 0;
  #bytesSeen = 0;
  #bytesNeeded = 0;
  #lower = 0x80;
  #upper = 0xbf;

  reset(): void {
    this.#codePoint = 0;
    this.#bytesSeen = 0;
    this.#bytesNeeded = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }

  /**
   * Decode `bytes`; with `flush`, an incomplete trailing sequence is an error. Errors give U+FFFD,
   * or return null when `fatal` (the caller throws; the state is then reset).
   */
  decode(bytes: Uint8Array, fatal: boolean, flush: boolean): string | null {
    const length = TypedArrayPrototypeGetLength(bytes);
    if (flush && this.#bytesNeeded === 0 && length >= HOST_DECODE_MIN) return this.#decodeOnHost(bytes, length, fatal);
    // Each byte yields at most one code unit, except the byte that completes a 4-byte sequence
    // started in an earlier chunk (two), and the U+FFFD for a pending sequence cut short (one more).
    const units = new Uint16ArrayCtor(length + 4);
    let n = 0;
    let codePoint = this.#codePoint;
    let bytesSeen = this.#bytesSeen;
    let bytesNeeded = this.#bytesNeeded;
    let lower = this.#lower;
    let upper = this.#upper;
    for (let i = 0; i < length; i++) {
      const byte = bytes[i]!;
      if (bytesNeeded === 0) {
        if (byte <= 0x7f) {
          units[n++] = byte;
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          bytesNeeded = 1;
          codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          if (byte === 0xe0) lower = 0xa0;
          else if (byte === 0xed) upper = 0x9f;
          bytesNeeded = 2;
          codePoint = byte & 0xf;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          if (byte === 0xf0) lower = 0x90;
          else if (byte === 0xf4) upper = 0x8f;
          bytesNeeded = 3;
          codePoint = byte & 0x7;
        } else {
          if (fatal) return this.#fail();
          units[n++] = 0xfffd;
        }
        continue;
      }
      if (byte < lower || byte > upper) {
        // Not a continuation byte: the sequence so far is an error and `byte` is processed again.
        codePoint = bytesNeeded = bytesSeen = 0;
        lower = 0x80;
        upper = 0xbf;
        if (fatal) return this.#fail();
        units[n++] = 0xfffd;
        i--;
        continue;
      }
      lower = 0x80;
      upper = 0xbf;
      codePoint = (codePoint << 6) | (byte & 0x3f);
      if (++bytesSeen !== bytesNeeded) continue;
      if (codePoint > 0xffff) {
        codePoint -= 0x10000;
        units[n++] = 0xd800 + (codePoint >> 10);
        units[n++] = 0xdc00 + (codePoint & 0x3ff);
      } else {
        units[n++] = codePoint;
      }
      codePoint = bytesNeeded = bytesSeen = 0;
    }
    if (flush && bytesNeeded !== 0) {
      codePoint = bytesNeeded = bytesSeen = 0;
      lower = 0x80;
      upper = 0xbf;
      if (fatal) return this.#fail();
      units[n++] = 0xfffd;
    }
    this.#codePoint = codePoint;
    this.#bytesSeen = bytesSeen;
    this.#bytesNeeded = bytesNeeded;
    this.#lower = lower;
    this.#upper = upper;
    return unitsToString(units, n);
  }

  /** A whole input (no sequence pending from an earlier chunk), by V8's decoder, piece by piece. */
  #decodeOnHost(bytes: Uint8Array, length: number, fatal: boolean): string | null {
    const buffer = TypedArrayPrototypeGetBuffer(bytes);
    const offset = TypedArrayPrototypeGetByteOffset(bytes);
    const native = fatal ? null : nativeDecode;
    let out = '';
    for (let start = 0; start < length; ) {
      let end = start + HOST_PIECE;
      if (end >= length) end = length;
      // Not inside a sequence: back over up to 3 continuation bytes (any more are malformed either way).
      else for (let back = 0; back < 3 && (bytes[end]! & 0xc0) === 0x80; back++) end--;
      const view = new Uint8ArrayCtor(buffer, offset + start, end - start);
      // The host takes a copy of its own, made through a view: ArrayBuffer.prototype.slice refuses a SharedArrayBuffer.
      const piece = native !== null ? native(view) : hostDecodeUtf8(TypedArrayPrototypeGetBuffer(copyBytes(view)) as ArrayBuffer, fatal);
      if (piece === null) return this.#fail();
      out += piece;
      start = end;
    }
    return out;
  }

  #fail(): null {
    this.reset();
    return null;
  }
}

/** https://encoding.spec.whatwg.org/#utf-8-decode: BOM stripped, errors replaced. */
export function utf8Decode(bytes: Uint8Array): string {
  const length = TypedArrayPrototypeGetLength(bytes);
  const start = length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const view = start === 0 ? bytes : subarray(bytes, start);
  return new Utf8Decoder().decode(view, false, true)!;
}

/** https://encoding.spec.whatwg.org/#utf-8-decode-without-bom */
export function utf8DecodeWithoutBOM(bytes: Uint8Array): string {
  return new Utf8Decoder().decode(bytes, false, true)!;
}

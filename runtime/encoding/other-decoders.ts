/**
 * The decoders TextDecoder has besides UTF-8: UTF-16LE and UTF-16BE
 * (https://encoding.spec.whatwg.org/#utf-16le-decoder) and windows-1252, which the Encoding Standard
 * also gives the labels latin1, iso-8859-1 and ascii (https://encoding.spec.whatwg.org/#legacy-single-byte-encodings),
 * here; the other legacy encodings (Shift_JIS, GBK, windows-1251, ...) need tables too large to keep in
 * every isolate: the host decodes them (HostDecoder). Same interface as Utf8Decoder: resumable for
 * `stream`, null on an error when fatal.
 */
import { hostDecodeText } from '../bridge.ts';
import { MathMin, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, Uint16ArrayCtor } from '../primordials.ts';
import { copyBytes, subarray } from './buffer-source.ts';
import { concatBytes } from './concat-bytes.ts';
import { unitsToString } from './utf8.ts';

export interface Decoder {
  reset(): void;
  decode(bytes: Uint8Array, fatal: boolean, flush: boolean): string | null;
}

export class Utf16Decoder implements Decoder {
  readonly #bigEndian: boolean;
  /** A byte waiting for its pair, or -1. */
  #leadByte = -1;
  /** A high surrogate waiting for its low one, or -1. */
  #leadSurrogate = -1;

  constructor(bigEndian: boolean) {
    this.#bigEndian = bigEndian;
  }

  reset(): void {
    this.#leadByte = -1;
    this.#leadSurrogate = -1;
  }

  decode(bytes: Uint8Array, fatal: boolean, flush: boolean): string | null {
    const length = TypedArrayPrototypeGetLength(bytes);
    const units = new Uint16ArrayCtor((length >> 1) + 3);
    let n = 0;
    let leadByte = this.#leadByte;
    let leadSurrogate = this.#leadSurrogate;
    for (let i = 0; i < length; i++) {
      const byte = bytes[i]!;
      if (leadByte === -1) {
        leadByte = byte;
        continue;
      }
      const unit = this.#bigEndian ? (leadByte << 8) | byte : (byte << 8) | leadByte;
      leadByte = -1;
      if (leadSurrogate !== -1) {
        const high = leadSurrogate;
        leadSurrogate = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          units[n++] = high;
          units[n++] = unit;
          continue;
        }
        // A high surrogate not followed by a low one: an error, and the unit is looked at again.
        if (fatal) return this.#fail();
        units[n++] = 0xfffd;
      }
      if (unit >= 0xd800 && unit <= 0xdbff) leadSurrogate = unit;
      else if (unit >= 0xdc00 && unit <= 0xdfff) {
        if (fatal) return this.#fail();
        units[n++] = 0xfffd;
      } else units[n++] = unit;
    }
    if (flush && (leadByte !== -1 || leadSurrogate !== -1)) {
      if (fatal) return this.#fail();
      units[n++] = 0xfffd;
      leadByte = -1;
      leadSurrogate = -1;
    }
    this.#leadByte = leadByte;
    this.#leadSurrogate = leadSurrogate;
    return unitsToString(units, n);
  }

  #fail(): null {
    this.reset();
    return null;
  }
}

/** windows-1252's bytes 0x80-0x9f; every other byte is its own code point. */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export class Windows1252Decoder implements Decoder {
  reset(): void {}

  decode(bytes: Uint8Array): string {
    const length = TypedArrayPrototypeGetLength(bytes);
    const units = new Uint16ArrayCtor(length);
    for (let i = 0; i < length; i++) {
      const byte = bytes[i]!;
      units[i] = byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH[byte - 0x80]! : byte;
    }
    return unitsToString(units, length);
  }
}

/**
 * The legacy encodings whose characters take more than one byte. In all but ISO-2022-JP a byte below
 * 0x30 is a character of its own (lead bytes are 0x81 and up, trail bytes 0x30 and up): a stream's chunk
 * decodes up to the last such byte, and the rest waits for the next chunk. ISO-2022-JP switches states
 * with escape sequences: its stream decodes at its last call.
 */
const MULTI_BYTE: Record<string, true> = { __proto__: null as never, big5: true, 'euc-jp': true, 'euc-kr': true, gb18030: true, gbk: true, shift_jis: true };
const STATEFUL = 'iso-2022-jp';

/** The most bytes one host call decodes: a native call the CPU limit cannot stop, as for UTF-8 (utf8.ts). */
const PIECE_BYTES = 1024 * 1024;

/** The index after the last byte below 0x30 in bytes[0, to), or 0. */
function lastCut(bytes: Uint8Array, to: number): number {
  for (let i = to - 1; i >= 0; i--) if (bytes[i]! < 0x30) return i + 1;
  return 0;
}

/**
 * A legacy encoding the host decodes (src/isolates/host-text.ts, Node's ICU tables). A decode() goes a
 * piece of at most PIECE_BYTES a call, cut anywhere: its pieces share one decoder on the host, which
 * keeps what a cut split. Between decode() calls the host keeps nothing: a stream's chunk decodes up to
 * where no character is split (see MULTI_BYTE), the rest waiting in the isolate for the next.
 */
export class HostDecoder implements Decoder {
  readonly #encoding: string;
  readonly #kind: 'single' | 'multi' | 'stateful';
  #held: Uint8Array | null = null;

  constructor(encoding: string) {
    this.#encoding = encoding;
    this.#kind = encoding === STATEFUL ? 'stateful' : MULTI_BYTE[encoding] === true ? 'multi' : 'single';
  }

  reset(): void {
    this.#held = null;
  }

  decode(bytes: Uint8Array, fatal: boolean, flush: boolean): string | null {
    const all = this.#held === null ? bytes : concatBytes([this.#held, bytes]);
    const length = TypedArrayPrototypeGetLength(all);
    let end = length;
    if (!flush && this.#kind !== 'single') end = this.#kind === 'multi' ? lastCut(all, length) : 0;
    this.#held = end < length ? copyBytes(subarray(all, end)) : null;
    if (end === 0) return '';
    let text = '';
    for (let start = 0; start < end; start += PIECE_BYTES) {
      const stop = MathMin(start + PIECE_BYTES, end);
      const piece = start === 0 ? (stop === end ? 0 : 1) : stop === end ? 3 : 2;
      const decoded = hostDecodeText(this.#encoding, TypedArrayPrototypeGetBuffer(copyBytes(subarray(all, start, stop))) as ArrayBuffer, fatal, piece);
      if (decoded === null) return null;
      text += decoded;
    }
    return text;
  }
}

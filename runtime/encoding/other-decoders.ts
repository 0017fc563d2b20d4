/**
 * The decoders TextDecoder has besides UTF-8: UTF-16LE and UTF-16BE
 * (https://encoding.spec.whatwg.org/#utf-16le-decoder) and windows-1252, which the Encoding Standard
 * also gives the labels latin1, iso-8859-1 and ascii (https://encoding.spec.whatwg.org/#legacy-single-byte-encodings),
 * here; the other legacy encodings (Shift_JIS, GBK, windows-1251, ...) need tables too large to keep in
 * every isolate: the host decodes them (HostDecoder). Same interface as Utf8Decoder: resumable for
 * `stream`, null on an error when fatal.
 */
import { hostDecodeText } from '../bridge.ts';
import { TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, Uint16ArrayCtor } from '../primordials.ts';
import { copyBytes } from './buffer-source.ts';
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

/** The legacy encodings whose characters take more than one byte: a stream's cut may split one. */
const MULTI_BYTE: Record<string, true> = { __proto__: null as never, big5: true, 'euc-jp': true, 'euc-kr': true, gb18030: true, gbk: true, 'iso-2022-jp': true, shift_jis: true };

/**
 * A legacy encoding the host decodes (src/isolates/host-text.ts, Node's ICU tables), a call per
 * decode(). A single-byte encoding's chunks decode on their own; a multi-byte one's are held until the
 * stream's last call (a cut may split a character, and the host keeps no decoder state between calls).
 */
export class HostDecoder implements Decoder {
  readonly #encoding: string;
  readonly #multiByte: boolean;
  #held: Uint8Array[] = [];

  constructor(encoding: string) {
    this.#encoding = encoding;
    this.#multiByte = MULTI_BYTE[encoding] === true;
  }

  reset(): void {
    this.#held = [];
  }

  decode(bytes: Uint8Array, fatal: boolean, flush: boolean): string | null {
    if (this.#multiByte && !flush) {
      if (TypedArrayPrototypeGetLength(bytes) > 0) this.#held[this.#held.length] = copyBytes(bytes);
      return '';
    }
    const all = this.#held.length === 0 ? copyBytes(bytes) : concatBytes([...this.#held, bytes]);
    this.#held = [];
    if (TypedArrayPrototypeGetLength(all) === 0) return '';
    return hostDecodeText(this.#encoding, TypedArrayPrototypeGetBuffer(all) as ArrayBuffer, fatal);
  }
}

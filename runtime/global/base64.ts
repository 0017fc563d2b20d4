/**
 * atob() and btoa() (https://html.spec.whatwg.org/multipage/webappapis.html#atob), with the
 * forgiving-base64 decoder of the Infra Standard (https://infra.spec.whatwg.org/#forgiving-base64), which
 * data: URLs use too (mime/data-url.ts).
 */
import { ReflectApply, StringFromCharCode, StringPrototypeCharCodeAt, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';
import { DOMException } from './dom-exception.ts';
import { subarray } from '../encoding/buffer-source.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Code unit → 6-bit value, or -1. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const ENCODE: string[] = [];
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET[i]!;

/** The addon's base64 of a Latin-1 string and forgiving decode (runtime/host.d.ts Natives); null when not built for this V8. */
let native: { encode: (input: string) => string | null; decode: (input: string) => string | null } | null = null;

export function useNativeBase64(encode: unknown, decode: unknown): void {
  if (typeof encode === 'function' && typeof decode === 'function') {
    native = { encode: encode as (input: string) => string | null, decode: decode as (input: string) => string | null };
  }
}

/** Longer inputs stay in the loops below, which the CPU limit can stop; a native call cannot be. */
const NATIVE_MAX = 1 << 20;

function invalid(): never {
  throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
}

// https://html.spec.whatwg.org/multipage/webappapis.html#dom-btoa
export function btoa(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.");
  const input = `${data as string}`;
  const length = input.length;
  if (native !== null && length <= NATIVE_MAX) return native.encode(input) ?? notLatin1();
  let out = '';
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const a = byteAt(input, i);
    const b = byteAt(input, i + 1);
    const c = byteAt(input, i + 2);
    out += ENCODE[a >> 2]! + ENCODE[((a & 3) << 4) | (b >> 4)]! + ENCODE[((b & 15) << 2) | (c >> 6)]! + ENCODE[c & 63]!;
  }
  if (i + 1 === length) {
    const a = byteAt(input, i);
    out += ENCODE[a >> 2]! + ENCODE[(a & 3) << 4]! + '==';
  } else if (i + 2 === length) {
    const a = byteAt(input, i);
    const b = byteAt(input, i + 1);
    out += ENCODE[a >> 2]! + ENCODE[((a & 3) << 4) | (b >> 4)]! + ENCODE[(b & 15) << 2]! + '=';
  }
  return out;
}

function byteAt(input: string, i: number): number {
  const c = StringPrototypeCharCodeAt(input, i);
  return c > 0xff ? notLatin1() : c;
}

function notLatin1(): never {
  throw new DOMException('The string to be encoded contains characters outside of the Latin1 range.', 'InvalidCharacterError');
}

function isAsciiWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

// https://html.spec.whatwg.org/multipage/webappapis.html#dom-atob
export function atob(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'atob': 1 argument required, but only 0 present.");
  const input = `${data as string}`;
  if (native !== null && input.length <= NATIVE_MAX) return native.decode(input) ?? invalid();
  const bytes = forgivingBase64Decode(input);
  if (bytes === null) invalid();
  // The bytes as code units, a chunk at a time (an argument list has a length limit).
  let out = '';
  const length = TypedArrayPrototypeGetLength(bytes);
  for (let i = 0; i < length; i += 8192) {
    out += ReflectApply(StringFromCharCode, null, subarray(bytes, i, i + 8192 < length ? i + 8192 : length) as unknown as number[]);
  }
  return out;
}

/** https://infra.spec.whatwg.org/#forgiving-base64-decode: the bytes, or null on failure. */
export function forgivingBase64Decode(input: string): Uint8Array<ArrayBuffer> | null {
  // 1. Remove all ASCII whitespace from data (done while collecting the 6-bit values).
  const values = new Uint8ArrayCtor(input.length);
  let n = 0;
  let padding = 0;
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (isAsciiWhitespace(c)) continue;
    if (c === 0x3d /* = */) {
      padding++;
      continue;
    }
    // Data after padding, or a code point outside the alphabet, is a failure.
    if (padding > 0 || c > 127 || DECODE[c] === -1) return null;
    values[n++] = DECODE[c]!;
  }
  // 2. If data's length divides by 4 leaving no remainder, remove 1 or 2 trailing "=".
  if (padding > 0) {
    if (padding > 2 || (n + padding) % 4 !== 0) return null;
  }
  // 3. If data's length divides by 4 leaving a remainder of 1, return failure.
  if (n % 4 === 1) return null;
  // 5-8. Decode 24 bits at a time; a trailing group of 12 or 18 bits drops its extra bits.
  const rest = n % 4;
  const out = new Uint8ArrayCtor(((n - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let o = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const bits = (values[i]! << 18) | (values[i + 1]! << 12) | (values[i + 2]! << 6) | values[i + 3]!;
    out[o++] = bits >> 16;
    out[o++] = (bits >> 8) & 0xff;
    out[o++] = bits & 0xff;
  }
  if (rest === 2) {
    out[o++] = (values[i]! << 2) | (values[i + 1]! >> 4);
  } else if (rest === 3) {
    const bits = (values[i]! << 12) | (values[i + 1]! << 6) | values[i + 2]!;
    out[o++] = bits >> 10;
    out[o++] = (bits >> 2) & 0xff;
  }
  return out;
}

/**
 * base64url without padding (RFC 4648 section 5), as JSON Web Keys carry their byte fields (RFC 7515
 * section 2). Decoding is strict: any other character, or padding, is a failure (null).
 */
import { StringPrototypeCharCodeAt, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';

// Built when the web-crypto chunk is made, after tenant code may have replaced globals: only primordials,
// a string's own characters and a typed array's elements, none of which a tenant can reach into.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** A character code's value plus one; 0 for a character outside the alphabet. */
const DECODE = new Uint8ArrayCtor(128);
for (let i = 0; i < 64; i++) DECODE[StringPrototypeCharCodeAt(ALPHABET, i)] = i + 1;

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  const length = TypedArrayPrototypeGetLength(bytes);
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const bits = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[bits >> 18]! + ALPHABET[(bits >> 12) & 63]! + ALPHABET[(bits >> 6) & 63]! + ALPHABET[bits & 63]!;
  }
  if (i + 1 === length) {
    const a = bytes[i]!;
    out += ALPHABET[a >> 2]! + ALPHABET[(a & 3) << 4]!;
  } else if (i + 2 === length) {
    const bits = (bytes[i]! << 8) | bytes[i + 1]!;
    out += ALPHABET[bits >> 10]! + ALPHABET[(bits >> 4) & 63]! + ALPHABET[(bits << 2) & 63]!;
  }
  return out;
}

/** The bytes of `text`, or null if it is not unpadded base64url. */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | null {
  const n = text.length;
  if (n % 4 === 1) return null;
  const out = new Uint8ArrayCtor(((n * 3) >> 2));
  let bits = 0;
  let count = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    const value = c < 128 ? DECODE[c]! - 1 : -1;
    if (value === -1) return null;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[o++] = (bits >> count) & 0xff;
    }
  }
  return out;
}

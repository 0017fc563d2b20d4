/**
 * base64url without padding (RFC 4648 section 5), as JSON Web Keys carry their byte fields (RFC 7515
 * section 2). Decoding is strict: any other character, or padding, is a failure (null).
 */
import { StringPrototypeCharCodeAt, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ENCODE: string[] = [];
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  ENCODE[i] = ALPHABET[i]!;
  DECODE[ALPHABET.charCodeAt(i)] = i;
}

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  const length = TypedArrayPrototypeGetLength(bytes);
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const bits = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ENCODE[bits >> 18]! + ENCODE[(bits >> 12) & 63]! + ENCODE[(bits >> 6) & 63]! + ENCODE[bits & 63]!;
  }
  if (i + 1 === length) {
    const a = bytes[i]!;
    out += ENCODE[a >> 2]! + ENCODE[(a & 3) << 4]!;
  } else if (i + 2 === length) {
    const bits = (bytes[i]! << 8) | bytes[i + 1]!;
    out += ENCODE[bits >> 10]! + ENCODE[(bits >> 4) & 63]! + ENCODE[(bits << 2) & 63]!;
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
    const value = c < 128 ? DECODE[c]! : -1;
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

/**
 * The data: URL processor (https://fetch.spec.whatwg.org/#data-url-processor): a data: URL's MIME type
 * and body, as fetch() answers a data: URL without leaving the isolate.
 */
import { StringFromCharCode, StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeSlice, StringPrototypeToLowerCase, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';
import { subarray } from '../encoding/buffer-source.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import { forgivingBase64Decode } from '../global/base64.ts';
import { parseMimeType, serializeMimeType, trim } from './mime-type.ts';

export interface DataURL {
  /** The MIME type, serialized. */
  mimeType: string;
  body: Uint8Array<ArrayBuffer>;
}

// https://infra.spec.whatwg.org/#ascii-whitespace
function isAsciiWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// https://url.spec.whatwg.org/#percent-decode (of a string: UTF-8 encoded first).
export function percentDecode(input: string): Uint8Array<ArrayBuffer> {
  const bytes = utf8Encode(input);
  const length = TypedArrayPrototypeGetLength(bytes);
  const out = new Uint8ArrayCtor(length);
  let o = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x25 /* % */ && i + 2 < length) {
      const high = hexValue(bytes[i + 1]!);
      const low = hexValue(bytes[i + 2]!);
      if (high !== -1 && low !== -1) {
        out[o++] = (high << 4) | low;
        i += 2;
        continue;
      }
    }
    out[o++] = byte;
  }
  return o === length ? out : (subarray(out, 0, o) as Uint8Array<ArrayBuffer>);
}

// https://infra.spec.whatwg.org/#isomorphic-decode
function isomorphicDecode(bytes: Uint8Array): string {
  let out = '';
  const length = TypedArrayPrototypeGetLength(bytes);
  for (let i = 0; i < length; i++) out += StringFromCharCode(bytes[i]!);
  return out;
}

/**
 * https://fetch.spec.whatwg.org/#data-url-processor, given the URL serialized (a Request's url: the
 * fragment, if any, is dropped here). Null is failure.
 */
export function processDataURL(url: string): DataURL | null {
  // 1-3. Serialized without its fragment, without the leading "data:".
  const hash = StringPrototypeIndexOf(url, '#');
  let input = hash === -1 ? url : StringPrototypeSlice(url, 0, hash);
  if (StringPrototypeToLowerCase(StringPrototypeSlice(input, 0, 5)) !== 'data:') return null;
  input = StringPrototypeSlice(input, 5);
  // 4-6. The MIME type: up to ",", stripped of leading and trailing ASCII whitespace.
  const comma = StringPrototypeIndexOf(input, ',');
  // 7. No "," is failure.
  if (comma === -1) return null;
  let mimeType = trim(StringPrototypeSlice(input, 0, comma), isAsciiWhitespace);
  // 8-10. The body: the rest, percent-decoded.
  let body = percentDecode(StringPrototypeSlice(input, comma + 1));
  // 11. ";" + zero or more spaces + "base64" (ASCII case-insensitive) at the end: forgiving-base64.
  const base64End = base64Suffix(mimeType);
  if (base64End !== -1) {
    const decoded = forgivingBase64Decode(isomorphicDecode(body));
    if (decoded === null) return null;
    body = decoded;
    // Drop "base64", the spaces and the ";".
    mimeType = StringPrototypeSlice(mimeType, 0, base64End);
  }
  // 12. A MIME type starting with ";" gets "text/plain" put in front.
  if (StringPrototypeCharCodeAt(mimeType, 0) === 0x3b) mimeType = 'text/plain' + mimeType;
  // 13-14. Parsed; failure is text/plain;charset=US-ASCII.
  const parsed = parseMimeType(mimeType);
  return { mimeType: parsed === null ? 'text/plain;charset=US-ASCII' : serializeMimeType(parsed), body };
}

/** Where the ";" of a trailing `;[ ]*base64` starts, or -1. */
function base64Suffix(mimeType: string): number {
  const length = mimeType.length;
  if (length < 7 || StringPrototypeToLowerCase(StringPrototypeSlice(mimeType, length - 6)) !== 'base64') return -1;
  let i = length - 7;
  while (i >= 0 && StringPrototypeCharCodeAt(mimeType, i) === 0x20) i--;
  return i >= 0 && StringPrototypeCharCodeAt(mimeType, i) === 0x3b ? i : -1;
}

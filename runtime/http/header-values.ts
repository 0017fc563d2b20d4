/**
 * Header names and values (https://fetch.spec.whatwg.org/#concept-header). Names are tokens
 * (RFC 9110 §5.1); values are normalised by trimming HTTP whitespace and may not contain NUL,
 * CR or LF. Both are ByteStrings: a code unit above U+00FF is a TypeError (Web IDL).
 */
import { StringPrototypeCharCodeAt, StringPrototypeSlice, StringPrototypeToLowerCase } from '../primordials.ts';

// RFC 9110 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = TOKEN[c + 0x20] = 1;

/** True if `value` is a non-empty RFC 9110 token (header names, methods). */
export function isToken(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const c = StringPrototypeCharCodeAt(value, i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

// https://webidl.spec.whatwg.org/#es-ByteString
export function toByteString(value: unknown, what: string): string {
  const s = `${value as string}`;
  for (let i = 0; i < s.length; i++) {
    if (StringPrototypeCharCodeAt(s, i) > 0xff) {
      throw new TypeError(`${what} contains a character outside of the Latin-1 range: ${s}`);
    }
  }
  return s;
}

/** A validated header name, lower-cased (the header list keeps names in lower case). */
export function toHeaderName(value: unknown): string {
  const name = toByteString(value, 'Header name');
  if (!isToken(name)) throw new TypeError(`Invalid header name: "${name}"`);
  return StringPrototypeToLowerCase(name);
}

function isHttpWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// https://fetch.spec.whatwg.org/#concept-header-value-normalize, then #header-value validity.
export function toHeaderValue(value: unknown, name: string): string {
  const raw = toByteString(value, 'Header value');
  let start = 0;
  let end = raw.length;
  while (start < end && isHttpWhitespace(StringPrototypeCharCodeAt(raw, start))) start++;
  while (end > start && isHttpWhitespace(StringPrototypeCharCodeAt(raw, end - 1))) end--;
  const normalized = start === 0 && end === raw.length ? raw : StringPrototypeSlice(raw, start, end);
  for (let i = 0; i < normalized.length; i++) {
    const c = StringPrototypeCharCodeAt(normalized, i);
    if (c === 0x00 || c === 0x0a || c === 0x0d) throw new TypeError(`Invalid header value for "${name}".`);
  }
  return normalized;
}

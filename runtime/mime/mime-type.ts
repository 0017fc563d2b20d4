/**
 * MIME types (https://mimesniff.spec.whatwg.org/#understanding-mime-types): the parser and serializer
 * of the MIME Sniffing Standard, and the HTTP code point classes of the Fetch Standard they use.
 *
 * Parameters are kept as two parallel arrays in insertion order (a MIME type has few of them; the first
 * of a repeated name wins, as the parser says), read and written by index so that tenant code that
 * patches Array.prototype cannot reach this path.
 */
import { StringPrototypeCharCodeAt, StringPrototypeSlice, StringPrototypeToLowerCase } from '../primordials.ts';

export interface MimeType {
  /** Lower-cased. */
  type: string;
  /** Lower-cased. */
  subtype: string;
  /** Lower-cased names, in insertion order. */
  names: string[];
  values: string[];
}

// https://mimesniff.spec.whatwg.org/#http-token-code-point: RFC 9110 tchar.
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = TOKEN[c + 0x20] = 1;

function isTokenCodePoint(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** True if `value` is non-empty and solely HTTP token code points. */
export function isHttpToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTokenCodePoint(StringPrototypeCharCodeAt(value, i))) return false;
  return true;
}

// https://mimesniff.spec.whatwg.org/#http-quoted-string-token-code-point: U+0009, U+0020-7E, U+0080-FF.
function isQuotedStringTokenCodePoint(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

// https://fetch.spec.whatwg.org/#http-whitespace
export function isHttpWhitespace(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x09 || c === 0x20;
}

/** https://fetch.spec.whatwg.org/#http-tab-or-space */
export function isHttpTabOrSpace(c: number): boolean {
  return c === 0x09 || c === 0x20;
}

/** `input` without the leading and trailing code units `strip` matches. */
export function trim(input: string, strip: (c: number) => boolean): string {
  let start = 0;
  while (start < input.length && strip(StringPrototypeCharCodeAt(input, start))) start++;
  return trimEnd(start === 0 ? input : StringPrototypeSlice(input, start), strip);
}

/** `input` without the trailing code units `strip` matches. */
export function trimEnd(input: string, strip: (c: number) => boolean): string {
  let end = input.length;
  while (end > 0 && strip(StringPrototypeCharCodeAt(input, end - 1))) end--;
  return end === input.length ? input : StringPrototypeSlice(input, 0, end);
}

/** Index of the first code unit at or after `from` that is `a` or `b`, else input.length. */
function indexOfEither(input: string, from: number, a: number, b: number): number {
  let i = from;
  while (i < input.length) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c === a || c === b) break;
    i++;
  }
  return i;
}

/**
 * https://fetch.spec.whatwg.org/#collect-an-http-quoted-string: `input[position]` is '"'. Returns the
 * value (extract-value) or the quoted string as written, and the position after it.
 */
export function collectHttpQuotedString(input: string, position: number, extractValue: boolean): { value: string; position: number } {
  const start = position;
  let value = '';
  position++;
  for (;;) {
    const stop = indexOfEither(input, position, 0x22 /* " */, 0x5c /* \ */);
    value += StringPrototypeSlice(input, position, stop);
    position = stop;
    if (position >= input.length) break;
    const quoteOrBackslash = StringPrototypeCharCodeAt(input, position);
    position++;
    if (quoteOrBackslash === 0x5c) {
      if (position >= input.length) {
        value += '\\';
        break;
      }
      value += input[position]!;
      position++;
    } else {
      break;
    }
  }
  return { value: extractValue ? value : StringPrototypeSlice(input, start, position), position };
}

// https://mimesniff.spec.whatwg.org/#parse-a-mime-type
export function parseMimeType(input: string): MimeType | null {
  // 1. Remove any leading and trailing HTTP whitespace.
  input = trim(input, isHttpWhitespace);
  const length = input.length;
  // 2-4. type: up to "/", non-empty, solely token code points.
  let position = indexOfEither(input, 0, 0x2f /* / */, 0x2f);
  const type = StringPrototypeSlice(input, 0, position);
  if (!isHttpToken(type)) return null;
  // 5-6.
  if (position >= length) return null;
  position++;
  // 7-9. subtype: up to ";", trailing HTTP whitespace removed, non-empty, solely token code points.
  let end = indexOfEither(input, position, 0x3b /* ; */, 0x3b);
  const subtype = trimEnd(StringPrototypeSlice(input, position, end), isHttpWhitespace);
  position = end;
  if (!isHttpToken(subtype)) return null;
  // 10.
  const mimeType: MimeType = { type: StringPrototypeToLowerCase(type), subtype: StringPrototypeToLowerCase(subtype), names: [], values: [] };
  // 11. Parameters.
  while (position < length) {
    // 11.1 Skip ";". 11.2 Skip HTTP whitespace.
    position++;
    while (position < length && isHttpWhitespace(StringPrototypeCharCodeAt(input, position))) position++;
    // 11.3-4 The name: up to ";" or "=", lower-cased.
    end = indexOfEither(input, position, 0x3b, 0x3d /* = */);
    const name = StringPrototypeToLowerCase(StringPrototypeSlice(input, position, end));
    position = end;
    // 11.5
    if (position < length) {
      if (StringPrototypeCharCodeAt(input, position) === 0x3b) continue;
      position++;
    }
    // 11.6
    if (position >= length) break;
    // 11.7-9 The value: a quoted string (what follows it up to ";" is dropped) or up to ";".
    let value: string;
    if (StringPrototypeCharCodeAt(input, position) === 0x22) {
      const quoted = collectHttpQuotedString(input, position, true);
      value = quoted.value;
      position = indexOfEither(input, quoted.position, 0x3b, 0x3b);
    } else {
      end = indexOfEither(input, position, 0x3b, 0x3b);
      value = trimEnd(StringPrototypeSlice(input, position, end), isHttpWhitespace);
      position = end;
      if (value === '') continue;
    }
    // 11.10 Kept when the name is a token, the value quoted-string token code points, and the name new.
    if (isHttpToken(name) && isQuotedStringValue(value) && parameterIndex(mimeType, name) === -1) {
      mimeType.names[mimeType.names.length] = name;
      mimeType.values[mimeType.values.length] = value;
    }
  }
  return mimeType;
}

function isQuotedStringValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (!isQuotedStringTokenCodePoint(StringPrototypeCharCodeAt(value, i))) return false;
  return true;
}

function parameterIndex(mimeType: MimeType, name: string): number {
  for (let i = 0; i < mimeType.names.length; i++) if (mimeType.names[i] === name) return i;
  return -1;
}

/** The value of parameter `name` (lower case), or null. */
export function getParameter(mimeType: MimeType, name: string): string | null {
  const i = parameterIndex(mimeType, name);
  return i === -1 ? null : mimeType.values[i]!;
}

/** Sets parameter `name` (lower case): replaces its value, or appends it. */
export function setParameter(mimeType: MimeType, name: string, value: string): void {
  const i = parameterIndex(mimeType, name);
  if (i !== -1) mimeType.values[i] = value;
  else {
    mimeType.names[mimeType.names.length] = name;
    mimeType.values[mimeType.values.length] = value;
  }
}

// https://mimesniff.spec.whatwg.org/#mime-type-essence
export function essenceOf(mimeType: MimeType): string {
  return mimeType.type + '/' + mimeType.subtype;
}

// https://mimesniff.spec.whatwg.org/#serialize-a-mime-type
export function serializeMimeType(mimeType: MimeType): string {
  let out = essenceOf(mimeType);
  for (let i = 0; i < mimeType.names.length; i++) {
    let value = mimeType.values[i]!;
    if (!isHttpToken(value)) {
      // Quoted, with '"' and '\' escaped (an empty value is quoted too).
      let quoted = '"';
      for (let j = 0; j < value.length; j++) {
        const c = StringPrototypeCharCodeAt(value, j);
        if (c === 0x22 || c === 0x5c) quoted += '\\';
        quoted += value[j]!;
      }
      value = quoted + '"';
    }
    out += ';' + mimeType.names[i]! + '=' + value;
  }
  return out;
}

/** Parse then serialize: the normalised form of `input`, or null if it is not a valid MIME type. */
export function normalizeMimeType(input: string): string | null {
  const parsed = parseMimeType(input);
  return parsed === null ? null : serializeMimeType(parsed);
}

/**
 * The urlencoded parser's fast path (https://url.spec.whatwg.org/#concept-urlencoded-parser), which
 * every URL with a query and every `new URLSearchParams(string)` runs: for input of ASCII characters,
 * the parser's UTF-8 encode leaves it as it is, so splitting on "&" and the first "=", turning "+" into
 * a space, and percent-decoding each name and value as UTF-8 gives the same list. The percent-decoding
 * is V8's decodeURIComponent, which throws where the parser would decode differently (a "%" not
 * followed by two hex digits, escapes that are not UTF-8): such input, and input that is not all ASCII,
 * returns null and goes to whatwg-url's byte-level parser (~4 µs a pair in an isolate, against ~0.2).
 * test/runtime/simple-url.test.ts compares the two.
 */
import { DecodeURIComponent, StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeReplaceAll, StringPrototypeSlice } from '../primordials.ts';

const PERCENT = 0x25;
/**
 * Longer input goes to whatwg-url's parser, a JavaScript loop the CPU limit stops: V8's
 * decodeURIComponent checks for neither interrupts nor termination (137 ms on 2^26 characters, see
 * runtime/global/interruptible/windowed-strings.ts), and here it would run on a tenant's whole query.
 */
const MAX_FAST_CHARS = 1 << 16;

function plusToSpace(part: string): string {
  return StringPrototypeIndexOf(part, '+') === -1 ? part : StringPrototypeReplaceAll(part, '+', ' ');
}

/** A name or value: "+" as a space, then percent-decoded; null when the escapes are not well-formed UTF-8. */
function decodePart(part: string, escaped: boolean): string | null {
  const spaced = plusToSpace(part);
  if (!escaped || StringPrototypeIndexOf(spaced, '%') === -1) return spaced;
  try {
    return DecodeURIComponent(spaced);
  } catch {
    return null;
  }
}

/** whatwg-url's list of [name, value] pairs for `input`, or null when the full parser must decide. */
export function parseSimpleUrlencoded(input: string): [string, string][] | null {
  if (input.length > MAX_FAST_CHARS) return null;
  let escaped = false;
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 0x80) return null;
    if (c === PERCENT) escaped = true;
  }
  const list: [string, string][] = [];
  let start = 0;
  while (start <= input.length) {
    let end = StringPrototypeIndexOf(input, '&', start);
    if (end === -1) end = input.length;
    if (end > start) {
      const sequence = StringPrototypeSlice(input, start, end);
      const equals = StringPrototypeIndexOf(sequence, '=');
      const name = equals === -1 ? sequence : StringPrototypeSlice(sequence, 0, equals);
      const value = equals === -1 ? '' : StringPrototypeSlice(sequence, equals + 1);
      const decodedName = decodePart(name, escaped);
      const decodedValue = decodePart(value, escaped);
      if (decodedName === null || decodedValue === null) return null;
      list[list.length] = [decodedName, decodedValue];
    }
    start = end + 1;
  }
  return list;
}

/** ASCII code → 1 where the application/x-www-form-urlencoded serializer leaves it as it is. */
const FORM_SAFE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._') FORM_SAFE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const SPACE = 0x20;

/** One name or value as the serializer writes it (space as "+"), or null if it is not all ASCII. */
function serializePart(part: string): string | null {
  let output = '';
  for (let i = 0; i < part.length; i++) {
    const c = StringPrototypeCharCodeAt(part, i);
    if (c >= 0x80) return null;
    if (FORM_SAFE[c] === 1) output += part[i]!;
    else if (c === SPACE) output += '+';
    else output += `%${HEX[c >> 4]!}${HEX[c & 15]!}`;
  }
  return output;
}

/**
 * https://url.spec.whatwg.org/#concept-urlencoded-serializer for names and values of ASCII characters,
 * whose UTF-8 encoding is themselves: every character outside the serializer's safe set as one "%XX"
 * (upper-case hex, as whatwg-url writes it), a space as "+". Null when a name or value is not all ASCII:
 * whatwg-url's serializer encodes it (searchParams.set() on a URL no longer loads whatwg-url's module
 * for ASCII, ~4 µs a pair through it in an isolate).
 */
export function serializeSimpleUrlencoded(tuples: readonly (readonly [string, string])[]): string | null {
  let output = '';
  for (let i = 0; i < tuples.length; i++) {
    const name = serializePart(tuples[i]![0]);
    const value = name === null ? null : serializePart(tuples[i]![1]);
    if (value === null) return null;
    output += `${i === 0 ? '' : '&'}${name}=${value}`;
  }
  return output;
}

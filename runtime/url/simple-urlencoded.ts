/**
 * The urlencoded parser's fast path (https://url.spec.whatwg.org/#concept-urlencoded-parser), which
 * every URL with a query and every `new URLSearchParams(string)` runs: for input of ASCII characters
 * without "%", the parser's UTF-8 encode, percent-decode and UTF-8 decode leave every name and value
 * as it is, so splitting on "&" and the first "=" and turning "+" into a space gives the same list.
 * Anything else returns null and goes to whatwg-url's byte-level parser (~4 µs a pair in an isolate).
 * test/runtime/simple-url.test.ts compares the two.
 */
import { StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeReplaceAll, StringPrototypeSlice } from '../primordials.ts';

const PERCENT = 0x25;

function plusToSpace(part: string): string {
  return StringPrototypeIndexOf(part, '+') === -1 ? part : StringPrototypeReplaceAll(part, '+', ' ');
}

/** whatwg-url's list of [name, value] pairs for `input`, or null when `input` is not all ASCII without "%". */
export function parseSimpleUrlencoded(input: string): [string, string][] | null {
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 0x80 || c === PERCENT) return null;
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
      list[list.length] = [plusToSpace(name), plusToSpace(value)];
    }
    start = end + 1;
  }
  return list;
}

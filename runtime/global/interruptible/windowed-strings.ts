/**
 * String functions that V8 runs over a whole string in one call that checks neither for interrupts nor
 * for termination, measured on 2^26 characters under the watchdog at a 50 ms budget:
 * `encodeURIComponent` 356 ms, `encodeURI` 311 ms, `unescape` 174 ms, `decodeURIComponent` and
 * `decodeURI` 137 ms, `escape` 100 ms, `toUpperCase` 81 ms. Each maps pieces of its input independently,
 * so a string over WINDOW characters is handed to the builtin a window at a time, cut where no
 * sequence spans the cut: never inside a surrogate pair, a `%XX` or `%uXXXX` escape, or the escapes of
 * one UTF-8 sequence. The CPU limit stops the loop between windows (~5 ms each). Shorter strings, and
 * `toLowerCase` of a string with a capital sigma (its lower case depends on what follows), keep the
 * builtin whole.
 */
import {
  ReflectApply,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeToLowerCase,
  StringPrototypeToUpperCase,
} from '../../primordials.ts';
import type { Builtin } from './builtin.ts';

/** Where to cut `text` at or before `at` so that no sequence spans the cut. */
type Cut = (text: string, at: number) => number;

/** Characters per builtin call (~5 ms for the slowest of these). */
const WINDOW = 1 << 20;
const PERCENT = 0x25;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/** Not between the two halves of a surrogate pair. */
const codePointCut: Cut = (text, at) => (isHighSurrogate(StringPrototypeCharCodeAt(text, at - 1)) ? at - 1 : at);

/** Anywhere: `escape` maps each code unit alone. */
const anyCut: Cut = (_text, at) => at;

/** Not inside `%XX` or `%uXXXX` (unescape). */
const escapeCut: Cut = (text, at) => {
  for (let k = 1; k <= 5; k++) {
    if (StringPrototypeCharCodeAt(text, at - k) !== PERCENT) continue;
    const spans = k <= 2 || StringPrototypeCharCodeAt(text, at - k + 1) === 0x75; // 'u'
    if (spans) return escapeCut(text, at - k);
  }
  return at;
};

/** Not inside `%XX`, nor between the escapes of one UTF-8 sequence (decodeURI, decodeURIComponent). */
const utf8EscapeCut: Cut = (text, at) => {
  let cut = escapeCut(text, at);
  // Back over escapes of continuation bytes (10xxxxxx) to the one that starts the sequence.
  for (let n = 0; n < 3 && isContinuationEscape(text, cut); n++) {
    if (StringPrototypeCharCodeAt(text, cut - 3) !== PERCENT) break;
    cut -= 3;
  }
  return cut;
};

function isContinuationEscape(text: string, at: number): boolean {
  if (StringPrototypeCharCodeAt(text, at) !== PERCENT) return false;
  const high = StringPrototypeCharCodeAt(text, at + 1);
  const low = StringPrototypeCharCodeAt(text, at + 2);
  return isHex(high) && isHex(low) && ((hexValue(high) << 4) | hexValue(low)) >> 6 === 2;
}

function windowed(builtin: Builtin, cut: Cut, text: string): string {
  let out = '';
  for (let start = 0; start < text.length; ) {
    let end = start + WINDOW;
    if (end >= text.length) end = text.length;
    else {
      end = cut(text, end);
      // A window that is all one sequence (it cannot be, for these inputs, past a few characters).
      if (end <= start) end = start + WINDOW;
    }
    out += ReflectApply(builtin, undefined, [StringPrototypeSlice(text, start, end)]) as string;
    start = end;
  }
  return out;
}

/** A global function of one string argument (method syntax: like the builtins, not a constructor). */
function globalFunction(builtin: Builtin, cut: Cut): Builtin {
  return {
    method(this: unknown, value: unknown) {
      const text = `${value as string}`;
      if (text.length <= WINDOW) return ReflectApply(builtin, undefined, [text]);
      return windowed(builtin, cut, text);
    },
  }.method as Builtin;
}

/** The global functions by name (each takes one argument). */
export const WINDOWED_GLOBALS: Record<string, Builtin> = {
  encodeURIComponent: globalFunction(encodeURIComponent as Builtin, codePointCut),
  encodeURI: globalFunction(encodeURI as Builtin, codePointCut),
  decodeURIComponent: globalFunction(decodeURIComponent as Builtin, utf8EscapeCut),
  decodeURI: globalFunction(decodeURI as Builtin, utf8EscapeCut),
  escape: globalFunction(escape as Builtin, anyCut),
  unescape: globalFunction(unescape as Builtin, escapeCut),
};

/** String.prototype.toUpperCase: each code point maps alone. */
export const toUpperCase = {
  toUpperCase(this: unknown) {
    if (typeof this !== 'string' || this.length <= WINDOW) return ReflectApply(StringPrototypeToUpperCase, undefined, [this]);
    return windowed(StringPrototypeToUpperCase as Builtin, codePointCut, this);
  },
}.toUpperCase;

/** String.prototype.toLowerCase: each code point maps alone, except a capital sigma (final or not). */
export const toLowerCase = {
  toLowerCase(this: unknown) {
    if (typeof this !== 'string' || this.length <= WINDOW || StringPrototypeIndexOf(this, '\u03a3') !== -1) {
      return ReflectApply(StringPrototypeToLowerCase, undefined, [this]);
    }
    return windowed(StringPrototypeToLowerCase as Builtin, codePointCut, this);
  },
}.toLowerCase;

/**
 * `String.prototype.split` by a string separator, for strings too long for one uninterrupted builtin
 * call: V8's split runs to the end without checking for interrupts or termination (a 128 MB string
 * split into 67 million parts held the thread 1.8 s). Here the search runs in windows of the string and
 * the parts are collected in a loop, where the CPU limit can stop it. Other strings and separators call
 * the builtin.
 */
import { MathMin, ReflectApply, StringPrototypeIndexOf, StringPrototypeSlice, SymbolSplit } from '../../primordials.ts';
import { HUGE } from './huge.ts';

const builtinSplit = String.prototype.split;
/** Characters searched per builtin indexOf call: well under a millisecond. */
const WINDOW = 1 << 20;

/** The first `needle` in `text` at or after `from`, searched a window at a time. */
function indexOf(text: string, needle: string, from: number): number {
  for (let start = from; start < text.length; start += WINDOW) {
    const window = StringPrototypeSlice(text, start, MathMin(start + WINDOW + needle.length - 1, text.length));
    const found = StringPrototypeIndexOf(window, needle);
    if (found !== -1) return start + found;
  }
  return -1;
}

function splitLong(text: string, separator: string, limit: unknown): string[] {
  const max = limit === undefined ? 2 ** 32 - 1 : (limit as number) >>> 0;
  const parts: string[] = [];
  if (max === 0) return parts;
  if (separator.length === 0) {
    const count = MathMin(max, text.length);
    for (let i = 0; i < count; i++) parts[i] = text[i]!;
    return parts;
  }
  let from = 0;
  for (let at = indexOf(text, separator, 0); at !== -1; at = indexOf(text, separator, from)) {
    parts[parts.length] = StringPrototypeSlice(text, from, at);
    if (parts.length === max) return parts;
    from = at + separator.length;
  }
  parts[parts.length] = StringPrototypeSlice(text, from);
  return parts;
}

export function split(this: unknown, separator: unknown, limit: unknown): unknown {
  // A string separator's Symbol.split is looked up as the spec says; only the builtin's own algorithm
  // (no Symbol.split on String.prototype) is replaced.
  if (typeof this === 'string' && this.length > HUGE && typeof separator === 'string' && (separator as unknown as Record<symbol, unknown>)[SymbolSplit] === undefined) {
    return splitLong(this, separator, limit);
  }
  return ReflectApply(builtinSplit, this, arguments);
}

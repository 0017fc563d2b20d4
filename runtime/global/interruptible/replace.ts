/**
 * Global replacement in long strings, as loops the CPU limit can stop. V8 builds the result of
 * `'x'.repeat(2 ** 24).replace(/x/g, 'y')` in one builtin call that checks for neither interrupts nor
 * termination (2.3 s; at 2^26 characters 34 s, and the watchdog had to end the serving process), and
 * `replaceAll` with a string likewise (2.1 s). For strings over HUGE characters the spec's algorithms run
 * here instead (RegExp.prototype[Symbol.replace] and the string path of String.prototype.replaceAll),
 * each match found by the regular expression's own `exec` or by indexOf, so the work is in a loop the
 * CPU limit stops. Shorter strings, and every other case, call the builtins.
 */
import {
  ArrayPrototypeJoin,
  MathMax,
  MathMin,
  MathTrunc,
  ObjectCtor,
  ReflectApply,
  StringPrototypeCharCodeAt,
  StringPrototypeIncludes,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  SymbolReplace,
} from '../../primordials.ts';
import { HUGE } from './huge.ts';
import { advance, regExpExec, toLength, toString, type Item } from './regexp-ops.ts';

type Replacer = (...args: unknown[]) => unknown;

const builtinRegExpReplace = RegExp.prototype[Symbol.replace] as unknown as Replacer;
const builtinReplaceAll = String.prototype.replaceAll as unknown as Replacer;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A piece of a replacement template: literal text, a capture's number, or a named group. */
type Part = string | number | { group: string };
const MATCHED = -1;
const BEFORE = -2;
const AFTER = -3;

/**
 * GetSubstitution's reading of a replacement template (`$$`, `$&`, `` $` ``, `$'`, `$n`, `$nn`,
 * `$<name>`), done once per call: what `$nn` and `$<` mean depends only on the number of captures and
 * whether there are named groups.
 */
function parseTemplate(template: string, captureCount: number, hasGroups: boolean): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  for (;;) {
    const dollar = StringPrototypeIndexOf(template, '$', i);
    if (dollar === -1 || dollar === template.length - 1) break;
    literal += StringPrototypeSlice(template, i, dollar);
    const next = template[dollar + 1]!;
    i = dollar + 2;
    let part: Part | null = null;
    if (next === '$') literal += '$';
    else if (next === '&') part = MATCHED;
    else if (next === '`') part = BEFORE;
    else if (next === "'") part = AFTER;
    else if (isDigit(StringPrototypeCharCodeAt(next, 0))) {
      let index = +next;
      if (i < template.length && isDigit(StringPrototypeCharCodeAt(template, i))) {
        const two = index * 10 + +template[i]!;
        if (two >= 1 && two <= captureCount) {
          index = two;
          i++;
        }
      }
      if (index >= 1 && index <= captureCount) part = index;
      else literal += StringPrototypeSlice(template, dollar, i);
    } else if (next === '<' && hasGroups) {
      const close = StringPrototypeIndexOf(template, '>', i);
      if (close === -1) literal += '$<';
      else {
        part = { group: StringPrototypeSlice(template, i, close) };
        i = close + 1;
      }
    } else {
      literal += '$' + next;
    }
    if (part !== null) {
      if (literal !== '') parts[parts.length] = literal;
      parts[parts.length] = part;
      literal = '';
    }
  }
  literal += StringPrototypeSlice(template, i);
  if (literal !== '') parts[parts.length] = literal;
  return parts;
}

/** GetSubstitution with a parsed template. */
function substitute(parts: Part[], matched: string, str: string, position: number, captures: (string | undefined)[], groups: Item | undefined): string {
  let out = '';
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (typeof part === 'string') out += part;
    else if (typeof part === 'object') {
      const capture = groups![part.group];
      if (capture !== undefined) out += toString(capture);
    } else if (part === MATCHED) out += matched;
    else if (part === BEFORE) out += StringPrototypeSlice(str, 0, position);
    else if (part === AFTER) out += StringPrototypeSlice(str, MathMin(position + matched.length, str.length));
    else out += captures[part - 1] ?? '';
  }
  return out;
}

/** RegExp.prototype[Symbol.replace], the spec's steps. */
function regExpReplaceLong(rx: Item, str: string, replaceValue: unknown): string {
  const functional = typeof replaceValue === 'function';
  const template = functional ? '' : toString(replaceValue);
  const flags = toString(rx.flags);
  const global = StringPrototypeIncludes(flags, 'g');
  const unicode = StringPrototypeIncludes(flags, 'u') || StringPrototypeIncludes(flags, 'v');
  if (global) rx.lastIndex = 0;
  const results: Item[] = [];
  for (;;) {
    const result = regExpExec(rx, str);
    if (result === null) break;
    results[results.length] = result;
    if (!global) break;
    if (toString(result[0]) === '') rx.lastIndex = advance(str, toLength(rx.lastIndex), unicode);
  }
  // Pieces joined once at the end rather than a cons string (~40 bytes) per match.
  const pieces: string[] = [];
  let nextSource = 0;
  let parts: Part[] | null = null;
  let partsCaptureCount = 0;
  let partsHaveGroups = false;
  for (let r = 0; r < results.length; r++) {
    const result = results[r]!;
    const captureCount = MathMax(toLength(result.length) - 1, 0);
    const matched = toString(result[0]);
    const position = MathMax(MathMin(MathTrunc(+(result.index as number)) || 0, str.length), 0);
    const captures: (string | undefined)[] = [];
    for (let n = 1; n <= captureCount; n++) {
      const capture = result[n];
      captures[n - 1] = capture === undefined ? undefined : toString(capture);
    }
    let groups = result.groups;
    let replacement: string;
    if (functional) {
      const args: unknown[] = [matched];
      for (let n = 0; n < captures.length; n++) args[args.length] = captures[n];
      args[args.length] = position;
      args[args.length] = str;
      if (groups !== undefined) args[args.length] = groups;
      replacement = toString(ReflectApply(replaceValue as Replacer, undefined, args));
    } else {
      if (groups !== undefined) groups = ObjectCtor(groups);
      // A tenant's exec may vary the number of captures from match to match.
      if (parts === null || captureCount !== partsCaptureCount || (groups !== undefined) !== partsHaveGroups) {
        partsCaptureCount = captureCount;
        partsHaveGroups = groups !== undefined;
        parts = parseTemplate(template, captureCount, partsHaveGroups);
      }
      replacement = substitute(parts, matched, str, position, captures, groups as Item | undefined);
    }
    if (position >= nextSource) {
      pieces[pieces.length] = StringPrototypeSlice(str, nextSource, position);
      pieces[pieces.length] = replacement;
      nextSource = position + matched.length;
    }
  }
  if (nextSource < str.length) pieces[pieces.length] = StringPrototypeSlice(str, nextSource);
  return ArrayPrototypeJoin(pieces, '');
}

/** String.prototype.replaceAll with a string to search for, the spec's steps. */
function replaceAllLong(str: string, search: string, replaceValue: unknown): string {
  const functional = typeof replaceValue === 'function';
  const template = functional ? '' : toString(replaceValue);
  const step = MathMax(1, search.length);
  const positions: number[] = [];
  // The spec's StringIndexOf finds nothing past the end; indexOf clamps its start (and finds '' there).
  for (let at = StringPrototypeIndexOf(str, search, 0); at !== -1; at = at + step > str.length ? -1 : StringPrototypeIndexOf(str, search, at + step)) {
    positions[positions.length] = at;
  }
  const parts = functional ? [] : parseTemplate(template, 0, false);
  const pieces: string[] = [];
  let end = 0;
  for (let i = 0; i < positions.length; i++) {
    const at = positions[i]!;
    const replacement = functional
      ? toString(ReflectApply(replaceValue as Replacer, undefined, [search, at, str]))
      : substitute(parts, search, str, at, [], undefined);
    pieces[pieces.length] = StringPrototypeSlice(str, end, at);
    pieces[pieces.length] = replacement;
    end = at + search.length;
  }
  if (end < str.length) pieces[pieces.length] = StringPrototypeSlice(str, end);
  return ArrayPrototypeJoin(pieces, '');
}

export const regExpReplace = {
  [SymbolReplace](this: unknown, string: unknown, replaceValue: unknown): unknown {
    if (typeof string === 'string' && string.length > HUGE && this !== null && typeof this === 'object') {
      return regExpReplaceLong(this as Item, string, replaceValue);
    }
    return ReflectApply(builtinRegExpReplace, this, arguments);
  },
}[SymbolReplace];

export function replaceAll(this: unknown, searchValue: unknown, replaceValue: unknown): unknown {
  // A string to search for has no Symbol.replace of its own unless String.prototype was given one.
  if (typeof this === 'string' && this.length > HUGE && typeof searchValue === 'string' && (searchValue as unknown as Item)[SymbolReplace] === undefined) {
    return replaceAllLong(this, searchValue, replaceValue);
  }
  return ReflectApply(builtinReplaceAll, this, arguments);
}

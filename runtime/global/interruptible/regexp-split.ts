/**
 * RegExp.prototype[Symbol.split] (what `split` with a regular expression calls) for strings over HUGE
 * characters: V8's builtin collects every part in one call that checks for neither interrupts nor
 * termination (`'xy'.repeat(2 ** 25).split(/y/)` held the thread 3.1 s before the memory limit ended it).
 * The spec tries the splitter, a sticky copy of the regexp, at each position in turn; for a regexp made
 * by the RegExp constructor itself, with the builtin `exec`, the same parts come from searching for the
 * next match with a global copy, a loop over matches the CPU limit can stop. A regexp whose constructor,
 * species or `exec` a tenant replaced gets the spec's steps as written (every call observable, slower).
 */
import {
  MathMin,
  ReflectApply,
  ReflectConstruct,
  RegExpCtor,
  RegExpPrototypeExec,
  StringPrototypeIncludes,
  StringPrototypeReplaceAll,
  StringPrototypeSlice,
  SymbolSpecies,
  SymbolSplit,
  TypeErrorCtor,
} from '../../primordials.ts';
import { HUGE } from './huge.ts';
import { advance, regExpExec, toLength, toString, type Item } from './regexp-ops.ts';
import type { Builtin } from './builtin.ts';

const builtinRegExpSplit = RegExp.prototype[Symbol.split] as unknown as Builtin;
const builtinExec = RegExp.prototype.exec;

/** SpeciesConstructor(rx, %RegExp%). */
function speciesConstructor(rx: Item): unknown {
  const ctor = rx.constructor;
  if (ctor === undefined) return RegExpCtor;
  if ((typeof ctor !== 'object' && typeof ctor !== 'function') || ctor === null) throw new TypeErrorCtor('object.constructor is not an object');
  const species = (ctor as unknown as Item)[SymbolSpecies];
  if (species === undefined || species === null) return RegExpCtor;
  if (typeof species !== 'function') throw new TypeErrorCtor('object.constructor[Symbol.species] is not a constructor');
  return species;
}

function regExpSplitLong(rx: Item, str: string, limit: unknown): string[] {
  const ctor = speciesConstructor(rx);
  const flags = toString(rx.flags);
  const unicode = StringPrototypeIncludes(flags, 'u') || StringPrototypeIncludes(flags, 'v');
  const splitter = ReflectConstruct(ctor as Builtin, [rx, StringPrototypeIncludes(flags, 'y') ? flags : flags + 'y']) as Item;
  const max = limit === undefined ? 2 ** 32 - 1 : (limit as number) >>> 0;
  const parts: unknown[] = [];
  if (max === 0) return parts as string[];
  const size = str.length;
  let p = 0;
  const cut = (end: number, next: number, match: Item): boolean => {
    parts[parts.length] = StringPrototypeSlice(str, p, end);
    if (parts.length === max) return true;
    p = next;
    const captures = MathMin(toLength(match.length) - 1, 2 ** 32 - 1);
    for (let i = 1; i <= captures; i++) {
      parts[parts.length] = match[i];
      if (parts.length === max) return true;
    }
    return false;
  };
  if (ctor === RegExpCtor && splitter.exec === builtinExec) {
    // The splitter is ours alone (no tenant code saw it): a global copy finds the next position where
    // the sticky splitter would match, and the spec's failed tries before it change nothing.
    const finder = new RegExpCtor(splitter as unknown as RegExp, StringPrototypeReplaceAll(flags, 'y', '') + (StringPrototypeIncludes(flags, 'g') ? '' : 'g'));
    let q = 0;
    while (q < size) {
      finder.lastIndex = q;
      const match = RegExpPrototypeExec(finder, str) as unknown as Item | null;
      if (match === null) break;
      const at = match.index as number;
      if (at >= size) break;
      const end = MathMin(at + (match[0] as string).length, size);
      if (end === p) {
        q = advance(str, at, unicode);
        continue;
      }
      if (cut(at, end, match)) return parts as string[];
      q = p;
    }
  } else {
    let q = 0;
    while (q < size) {
      splitter.lastIndex = q;
      const match = regExpExec(splitter, str);
      if (match === null) {
        q = advance(str, q, unicode);
        continue;
      }
      const end = MathMin(toLength(splitter.lastIndex), size);
      if (end === p) {
        q = advance(str, q, unicode);
        continue;
      }
      if (cut(q, end, match)) return parts as string[];
      q = p;
    }
  }
  parts[parts.length] = StringPrototypeSlice(str, p);
  return parts as string[];
}

export const regExpSplit = {
  [SymbolSplit](this: unknown, string: unknown, limit: unknown): unknown {
    if (typeof string === 'string' && string.length > HUGE && this !== null && typeof this === 'object') {
      return regExpSplitLong(this as Item, string, limit);
    }
    return ReflectApply(builtinRegExpSplit, this, arguments);
  },
}[SymbolSplit];

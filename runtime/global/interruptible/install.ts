/**
 * Builtins that could hold a serving thread past every limit, replaced by versions the host can stop.
 *
 * Many of V8's Array.prototype methods loop over every index from 0 to `length`, holes included,
 * without checking for interrupts or termination: on a sparse array such as `new Array(5e7)` sort ran
 * 5.4 s, copyWithin 5.0 s, splice 4.6 s, forEach 1.5 s, and nothing (not the CPU limit, not the
 * watchdog) can stop them, so the whole serving process stalls. The replacements keep the builtin for
 * arrays up to HUGE elements (the common case, unchanged and as fast); anything longer, and any receiver
 * that is not an array (an array-like's `length` is the tenant's to choose), runs the spec's algorithm
 * as a JavaScript loop (./generic-methods.ts, a runtime chunk loaded on first need), which the CPU limit
 * stops like any loop. `flat` and `flatMap` also watch the arrays they descend into (./flat.ts).
 */
import {
  ArrayIsArray,
  CONFIGURABLE,
  defineValue,
  globalThisRef,
  ObjectCtor,
  ReflectApply,
  SymbolReplace,
  SymbolSplit,
  TypedArrayPrototype,
  WRITABLE,
} from '../../primordials.ts';
import { setName } from '../define.ts';
import { concat } from './concat.ts';
import { parse as jsonParse } from './json-parse.ts';
import { toLowerCase, toUpperCase, WINDOWED_GLOBALS } from './windowed-strings.ts';
import { fill } from './fill.ts';
import { assign, entries, keys, values } from './object-keys.ts';
import { flat, flatMap } from './flat.ts';
import { genericMethod } from './generic.ts';
import { HUGE } from './huge.ts';
import { regExpReplace, replaceAll } from './replace.ts';
import { regExpSplit } from './regexp-split.ts';
import { split } from './split.ts';
import {
  copyWithin as typedCopyWithin,
  fill as typedFill,
  includes as typedIncludes,
  indexOf as typedIndexOf,
  join as typedJoin,
  lastIndexOf as typedLastIndexOf,
  reverse as typedReverse,
  set as typedSet,
  sort as typedSort,
  toLocaleString as typedToLocaleString,
  toSorted as typedToSorted,
} from './typed-arrays.ts';
import type { Builtin } from './builtin.ts';

/**
 * Which receivers keep the builtin: `short` arrays up to HUGE elements; `all` arrays of any length (the
 * builtin handles a sparse array by its elements, not its indices).
 */
type Keep = 'short' | 'all';

/** Name → [the builtin's `length`, which receivers keep the builtin]. */
const ARRAY_METHODS: Record<string, [number, Keep]> = {
  copyWithin: [2, 'short'],
  every: [1, 'short'],
  filter: [1, 'short'],
  forEach: [1, 'short'],
  indexOf: [1, 'short'],
  join: [1, 'all'],
  lastIndexOf: [1, 'short'],
  map: [1, 'short'],
  reduce: [1, 'short'],
  reduceRight: [1, 'short'],
  reverse: [0, 'short'],
  shift: [0, 'short'],
  slice: [2, 'short'],
  some: [1, 'short'],
  sort: [1, 'short'],
  splice: [2, 'short'],
  // (Without the cast TypeScript reads this key as Object.prototype's method.)
  toLocaleString: [0, 'short'] as [number, Keep],
  toReversed: [0, 'short'],
  toSorted: [1, 'short'],
  toSpliced: [2, 'short'],
  unshift: [1, 'short'],
  with: [2, 'short'],
};

function replace(proto: object, name: string, method: Function, length: number): void {
  setName(method, name);
  if (method.length !== length) defineValue(method, 'length', length, CONFIGURABLE);
  defineValue(proto, name, method, WRITABLE | CONFIGURABLE);
}

function arrayMethod(name: string, keep: Keep): Function {
  const builtin = (Array.prototype as unknown as Record<string, Builtin>)[name]!;
  // Method syntax: like the builtins, the replacement is not a constructor.
  return {
    method(this: unknown) {
      if (ArrayIsArray(this) && (keep === 'all' || (this as unknown[]).length <= HUGE)) {
        return ReflectApply(builtin, this, arguments);
      }
      return genericMethod(name)(this, arguments);
    },
  }.method;
}

export function installInterruptibleBuiltins(): void {
  for (const name in ARRAY_METHODS) {
    const [length, keep] = ARRAY_METHODS[name]!;
    replace(Array.prototype, name, arrayMethod(name, keep), length);
  }
  replace(Array.prototype, 'concat', concat, 1);
  replace(Array.prototype, 'fill', fill, 1);
  replace(Array.prototype, 'flat', flat, 0);
  replace(Array.prototype, 'flatMap', flatMap, 1);
  replace(TypedArrayPrototype, 'sort', typedSort, 1);
  replace(TypedArrayPrototype, 'join', typedJoin, 1);
  replace(TypedArrayPrototype, 'toLocaleString', typedToLocaleString, 0);
  replace(TypedArrayPrototype, 'toSorted', typedToSorted, 1);
  replace(TypedArrayPrototype, 'reverse', typedReverse, 0);
  replace(TypedArrayPrototype, 'fill', typedFill, 1);
  replace(TypedArrayPrototype, 'copyWithin', typedCopyWithin, 2);
  replace(TypedArrayPrototype, 'indexOf', typedIndexOf, 1);
  replace(TypedArrayPrototype, 'lastIndexOf', typedLastIndexOf, 1);
  replace(TypedArrayPrototype, 'includes', typedIncludes, 1);
  replace(TypedArrayPrototype, 'set', typedSet, 1);
  replace(ObjectCtor, 'keys', keys, 1);
  replace(ObjectCtor, 'values', values, 1);
  replace(ObjectCtor, 'entries', entries, 1);
  replace(ObjectCtor, 'assign', assign, 2);
  replace(JSON, 'parse', jsonParse, 2);
  replace(String.prototype, 'toUpperCase', toUpperCase, 0);
  replace(String.prototype, 'toLowerCase', toLowerCase, 0);
  for (const name in WINDOWED_GLOBALS) replace(globalThisRef, name, WINDOWED_GLOBALS[name]!, 1);
  replace(String.prototype, 'split', split, 2);
  replace(String.prototype, 'replaceAll', replaceAll, 2);
  // Named "[Symbol.replace]" and "[Symbol.split]" by their computed keys, as the builtins are.
  defineValue(RegExp.prototype, SymbolReplace, regExpReplace, WRITABLE | CONFIGURABLE);
  defineValue(RegExp.prototype, SymbolSplit, regExpSplit, WRITABLE | CONFIGURABLE);
}

/**
 * %TypedArray%.prototype methods that V8 runs in one uninterruptible call, for typed arrays over HUGE
 * elements: `toLocaleString` (11.8 s on a 3e7-element Uint8Array: the watchdog would end the serving
 * process at 6 s), `join` (1.3 s at 1e8), `sort` (0.8 s for 1e7 doubles; with a comparator, V8 first
 * copies every element and ran into the memory limit after 1 s), `toSorted` (1.1 s for 5e6 doubles,
 * 1.7 s and then the memory limit with a comparator) and `reverse` (146 ms for 1e8 bytes at a 50 ms
 * limit). Here they run as loops the CPU limit stops: reverse swaps in place, join
 * and toLocaleString by the generic algorithms (./generic-methods.ts; a typed array is an array-like
 * whose elements are all present), sort and toSorted through a plain array and the builtin Array sort,
 * which calls its comparator, a function call the limit can stop at. Shorter typed arrays call the builtins.
 */
import {
  ArrayPrototypeSort,
  NumberIsNaN,
  ObjectIs,
  ReflectApply,
  TypeErrorCtor,
  TypedArrayPrototype,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  globalThisRef,
} from '../../primordials.ts';
import { genericMethod } from './generic.ts';
import { HUGE } from './huge.ts';
import type { Builtin } from './builtin.ts';

type Numbers = Record<number, number | bigint>;

const builtins = TypedArrayPrototype as unknown as Record<string, Builtin>;
const builtinSort = builtins.sort!;
const builtinJoin = builtins.join!;
const builtinToLocaleString = builtins.toLocaleString!;
const builtinToSorted = builtins.toSorted!;
const builtinReverse = builtins.reverse!;

type TypedArrayCtor = new (length: number) => Numbers;
/** Each typed array constructor by its [[TypedArrayName]]: toSorted answers with the receiver's own type (no species). */
const SAME_TYPE: Record<string, TypedArrayCtor> = { __proto__: null } as unknown as Record<string, TypedArrayCtor>;
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
  const ctor = (globalThisRef as unknown as Record<string, unknown>)[name];
  if (typeof ctor === 'function') SAME_TYPE[name] = ctor as TypedArrayCtor;
}

/** The typed array order: numeric, -0 before +0, NaN last (the builtin's, when no comparator is given). */
function numericOrder(a: number | bigint, b: number | bigint): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (typeof a === 'number' && typeof b === 'number') {
    if (NumberIsNaN(a)) return NumberIsNaN(b) ? 0 : 1;
    if (NumberIsNaN(b)) return -1;
    if (a === 0 && b === 0) return ObjectIs(a, -0) === ObjectIs(b, -0) ? 0 : ObjectIs(a, -0) ? -1 : 1;
  }
  return 0;
}

/** The length of a typed array (a TypeError for anything else), or -1 when it is short enough for the builtin. */
function longLength(view: unknown): number {
  const length = TypedArrayPrototypeGetLength(view as ArrayBufferView);
  return length > HUGE ? length : -1;
}

function checkComparator(compare: unknown): void {
  if (compare !== undefined && typeof compare !== 'function') {
    throw new TypeErrorCtor('The comparison function must be either a function or undefined');
  }
}

/** The first `length` elements of `view` sorted into `into` (the view itself for sort, a new one for toSorted). */
function sortInto(view: Numbers, length: number, compare: unknown, into: Numbers): void {
  const values: (number | bigint)[] = [];
  for (let i = 0; i < length; i++) values[i] = view[i]!;
  // A JavaScript comparator either way: a builtin one (Math.min) would give the sort no call to stop at.
  const comparator = compare === undefined ? numericOrder : (a: number | bigint, b: number | bigint) => ReflectApply(compare as Builtin, undefined, [a, b]) as number;
  ArrayPrototypeSort(values, comparator);
  // A comparator may have shrunk the buffer meanwhile: writes past the end are ignored, as in the spec.
  for (let i = 0; i < length; i++) into[i] = values[i]!;
}

export function sort(this: unknown, compare: unknown): unknown {
  checkComparator(compare);
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinSort, this, arguments);
  sortInto(this as Numbers, length, compare, this as Numbers);
  return this;
}

export function toSorted(this: unknown, compare: unknown): unknown {
  checkComparator(compare);
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinToSorted, this, arguments);
  const sorted = new SAME_TYPE[TypedArrayPrototypeGetSymbolToStringTag(this)!]!(length);
  sortInto(this as Numbers, length, compare, sorted);
  return sorted;
}

export function reverse(this: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinReverse, this, arguments);
  const view = this as Numbers;
  for (let lower = 0, upper = length - 1; lower < upper; lower++, upper--) {
    const value = view[lower]!;
    view[lower] = view[upper]!;
    view[upper] = value;
  }
  return this;
}

export function join(this: unknown, separator: unknown): unknown {
  return longLength(this) === -1 ? ReflectApply(builtinJoin, this, arguments) : genericMethod('join')(this, arguments);
}

export function toLocaleString(this: unknown): unknown {
  return longLength(this) === -1 ? ReflectApply(builtinToLocaleString, this, arguments) : genericMethod('toLocaleString')(this, arguments);
}

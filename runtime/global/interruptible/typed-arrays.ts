/**
 * %TypedArray%.prototype methods that V8 runs in one uninterruptible call, for typed arrays over HUGE
 * elements: `toLocaleString` (11.8 s on a 3e7-element Uint8Array: the watchdog would end the serving
 * process at 6 s), `join` (1.3 s at 1e8), `sort` (0.8 s for 1e7 doubles; with a comparator, V8 first
 * copies every element and ran into the memory limit after 1 s), `toSorted` (1.1 s for 5e6 doubles,
 * 1.7 s and then the memory limit with a comparator) and `reverse` (146 ms for 1e8 bytes at a 50 ms
 * limit). Here they run as loops the CPU limit stops: reverse swaps in place, join
 * and toLocaleString by the generic algorithms (./generic-methods.ts; a typed array is an array-like
 * whose elements are all present), sort and toSorted through a plain array and the builtin Array sort,
 * which calls its comparator, a function call the limit can stop at. `fill`, `copyWithin`, `indexOf`,
 * `lastIndexOf`, `includes` and `set` (and Buffer's, which inherit them) are one native call each
 * (220-360 ms on 450 MB past a 50 ms limit, another tenant's request waiting as long): they call the
 * builtin on HUGE elements at a time, their arguments converted once, in the spec's order. Shorter
 * typed arrays call the builtins.
 */
import {
  ArrayPrototypeSort,
  MathMax,
  MathMin,
  NumberIsNaN,
  ObjectIs,
  RangeErrorCtor,
  ReflectApply,
  TypeErrorCtor,
  TypedArrayPrototype,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  globalThisRef,
} from '../../primordials.ts';
import { genericMethod } from './generic.ts';
import { relativeIndex, toIntegerOrInfinity } from './indices.ts';
import { HUGE } from './huge.ts';
import type { Builtin } from './builtin.ts';

type Numbers = Record<number, number | bigint>;

const builtins = TypedArrayPrototype as unknown as Record<string, Builtin>;
const builtinSort = builtins.sort!;
const builtinJoin = builtins.join!;
const builtinToLocaleString = builtins.toLocaleString!;
const builtinToSorted = builtins.toSorted!;
const builtinReverse = builtins.reverse!;
const builtinFill = builtins.fill!;
const builtinCopyWithin = builtins.copyWithin!;
const builtinIndexOf = builtins.indexOf!;
const builtinLastIndexOf = builtins.lastIndexOf!;
const builtinIncludes = builtins.includes!;
const builtinSet = builtins.set!;

type TypedArrayCtor = { new (length: number): Numbers; new (buffer: ArrayBufferLike, byteOffset: number, length: number): Numbers; BYTES_PER_ELEMENT: number };
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

const numberScratch = new Float64Array(1);
const bigintScratch = new BigInt64Array(1);

/** `value` converted as storing it into `view` converts it (ToBigInt or ToNumber), once. */
function elementValue(view: unknown, value: unknown): number | bigint {
  const tag = TypedArrayPrototypeGetSymbolToStringTag(view);
  if (tag === 'BigInt64Array' || tag === 'BigUint64Array') {
    (bigintScratch as unknown as Record<number, unknown>)[0] = value;
    return bigintScratch[0]!;
  }
  (numberScratch as unknown as Record<number, unknown>)[0] = value;
  return numberScratch[0]!;
}

/** Elements `start` to `start + count` of `view`, as a view of the same type (no species: the builtin's own). */
function part(view: unknown, start: number, count: number): Numbers {
  const ctor = SAME_TYPE[TypedArrayPrototypeGetSymbolToStringTag(view)!]!;
  return new ctor(TypedArrayPrototypeGetBuffer(view as ArrayBufferView), TypedArrayPrototypeGetByteOffset(view as ArrayBufferView) + start * ctor.BYTES_PER_ELEMENT, count);
}

export function fill(this: unknown, value: unknown, start: unknown, end: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinFill, this, arguments);
  // The spec's order: the value, then start, then end, each converted once.
  const converted = elementValue(this, value);
  const from = relativeIndex(start, 0, length);
  const to = relativeIndex(end, length, length);
  // The builtin checks the buffer again (detached: a TypeError) and stops at its length now.
  if (from >= to) return ReflectApply(builtinFill, this, [converted, from, to]);
  for (let at = from; at < to; at += HUGE) ReflectApply(builtinFill, this, [converted, at, MathMin(at + HUGE, to)]);
  return this;
}

export function copyWithin(this: unknown, target: unknown, start: unknown, end: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinCopyWithin, this, arguments);
  const to = relativeIndex(target, 0, length);
  const from = relativeIndex(start, 0, length);
  const last = relativeIndex(end, length, length);
  const count = MathMin(last - from, length - to);
  if (count <= 0) return ReflectApply(builtinCopyWithin, this, [to, from, from]);
  // Overlapping ranges copy as memmove does: from the end when the target is after the source.
  if (to > from) {
    for (let done = count; done > 0; done -= HUGE) {
      const size = MathMin(HUGE, done);
      ReflectApply(builtinCopyWithin, this, [to + done - size, from + done - size, from + done]);
    }
  } else {
    for (let done = 0; done < count; done += HUGE) ReflectApply(builtinCopyWithin, this, [to + done, from + done, from + MathMin(done + HUGE, count)]);
  }
  return this;
}

/**
 * `set` from a typed array of over HUGE elements: the builtin on HUGE elements at a time (~0.5 ns a byte
 * as one call: 220 ms for 450 MB). A source in the target's buffer reads as the spec's clone of it
 * would: of the same type, copied in the direction memmove takes; of another type whose bytes overlap
 * the target's, cloned first (as V8 does), in pieces too. Array-like sources keep the builtin: it reads
 * each element with a Get the limit can stop (a plain array's fast copy is bounded by the heap).
 */
export function set(this: unknown, source: unknown, offset: unknown): unknown {
  const sourceLength = isTypedArray(source) ? TypedArrayPrototypeGetLength(source as ArrayBufferView) : -1;
  if (sourceLength <= HUGE) return ReflectApply(builtinSet, this, arguments);
  const targetLength = TypedArrayPrototypeGetLength(this as ArrayBufferView);
  const at = toIntegerOrInfinity(offset);
  // The builtin's own checks first: detached buffers, a negative offset, BigInt against Number elements.
  ReflectApply(builtinSet, this, [part(source, 0, 0), MathMin(at, targetLength)]);
  if (at + sourceLength > targetLength) throw new RangeErrorCtor('offset is out of bounds');
  let from = source as Numbers;
  const targetBytes = TypedArrayPrototypeGetByteOffset(this as ArrayBufferView) + at * bytesPerElement(this);
  const sourceBytes = TypedArrayPrototypeGetByteOffset(from as unknown as ArrayBufferView);
  if (TypedArrayPrototypeGetBuffer(this as ArrayBufferView) === TypedArrayPrototypeGetBuffer(from as unknown as ArrayBufferView)) {
    const sameType = TypedArrayPrototypeGetSymbolToStringTag(this) === TypedArrayPrototypeGetSymbolToStringTag(from);
    if (sameType && targetBytes > sourceBytes) {
      for (let done = sourceLength; done > 0; done -= HUGE) {
        const size = MathMin(HUGE, done);
        ReflectApply(builtinSet, this, [part(from, done - size, size), at + done - size]);
      }
      return undefined;
    }
    const overlap = targetBytes < sourceBytes + sourceLength * bytesPerElement(from) && sourceBytes < targetBytes + sourceLength * bytesPerElement(this);
    if (!sameType && overlap) {
      const clone = new SAME_TYPE[TypedArrayPrototypeGetSymbolToStringTag(from)!]!(sourceLength);
      for (let done = 0; done < sourceLength; done += HUGE) ReflectApply(builtinSet, clone, [part(from, done, MathMin(HUGE, sourceLength - done)), done]);
      from = clone;
    }
  }
  for (let done = 0; done < sourceLength; done += HUGE) ReflectApply(builtinSet, this, [part(from, done, MathMin(HUGE, sourceLength - done)), at + done]);
  return undefined;
}

function isTypedArray(value: unknown): boolean {
  return TypedArrayPrototypeGetSymbolToStringTag(value) !== undefined;
}

function bytesPerElement(view: unknown): number {
  return SAME_TYPE[TypedArrayPrototypeGetSymbolToStringTag(view)!]!.BYTES_PER_ELEMENT;
}

/** Elements present now, of the `length` there were (the buffer may have shrunk, or been detached, while an argument converted). */
function presentNow(view: unknown, length: number): number {
  return MathMin(length, TypedArrayPrototypeGetLength(view as ArrayBufferView));
}

export function indexOf(this: unknown, search: unknown, fromIndex: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinIndexOf, this, arguments);
  const present = presentNow(this, length);
  for (let at = relativeIndex(fromIndex, 0, length); at < present; at += HUGE) {
    const found = ReflectApply(builtinIndexOf, part(this, at, MathMin(HUGE, present - at)), [search]) as number;
    if (found !== -1) return at + found;
  }
  return -1;
}

export function lastIndexOf(this: unknown, search: unknown, fromIndex: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinLastIndexOf, this, arguments);
  const n = arguments.length > 1 ? toIntegerOrInfinity(fromIndex) : length - 1;
  if (n === -Infinity) return -1;
  const present = presentNow(this, length);
  for (let end = MathMin(n >= 0 ? MathMin(n, length - 1) : length + n, present - 1) + 1; end > 0; end -= HUGE) {
    const start = MathMax(0, end - HUGE);
    const found = ReflectApply(builtinLastIndexOf, part(this, start, end - start), [search]) as number;
    if (found !== -1) return start + found;
  }
  return -1;
}

export function includes(this: unknown, search: unknown, fromIndex: unknown): unknown {
  const length = longLength(this);
  if (length === -1) return ReflectApply(builtinIncludes, this, arguments);
  const first = relativeIndex(fromIndex, 0, length);
  const present = presentNow(this, length);
  for (let at = first; at < present; at += HUGE) {
    if (ReflectApply(builtinIncludes, part(this, at, MathMin(HUGE, present - at)), [search]) === true) return true;
  }
  // Past the elements present now, the spec reads undefined (a buffer that shrank meanwhile).
  return search === undefined && MathMax(first, present) < length;
}

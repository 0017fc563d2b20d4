/**
 * ECMA-262's generic algorithms for the Array.prototype methods, written out in JavaScript so that they
 * run as ordinary loops, where V8 checks for interrupts and termination (see ./install.ts for why).
 * They are used only for receivers that are not arrays or have a huge length, so this module is a
 * runtime chunk (src/isolates/runtime-bundle.ts): loaded the first time one is needed, not in every
 * isolate. It runs after tenant code has, so it takes the runtime's intrinsics as an argument instead
 * of reading globals.
 *
 * Each method takes the receiver and the caller's arguments, and follows the spec's steps in order, so
 * conversions (`valueOf`, `length` getters) and property accesses happen as many times, and in the same
 * order, as with the builtins.
 */
import type * as Primordials from '../../primordials.ts';

/** The intrinsics the algorithms use, captured by the runtime before any tenant code ran. */
export type Intrinsics = Pick<
  typeof Primordials,
  | 'ObjectCtor' | 'ObjectCreate' | 'ArrayCtor' | 'ArrayIsArray' | 'ArrayPrototypeSort' | 'TypeErrorCtor' | 'RangeErrorCtor'
  | 'ReflectApply' | 'ReflectConstruct' | 'ReflectDefineProperty' | 'MathMax' | 'MathMin' | 'MathTrunc' | 'SymbolSpecies'
  | 'SetCtor' | 'SetPrototypeAdd' | 'SetPrototypeDelete' | 'SetPrototypeHas' | 'SymbolIsConcatSpreadable'
>;
type Args = ArrayLike<unknown>;
type Item = Record<PropertyKey, unknown>;
export type GenericMethod = (receiver: unknown, args: Args) => unknown;

export function genericMethods(p: Intrinsics): Record<string, GenericMethod> {
  const { ObjectCtor, ObjectCreate, ArrayCtor, ArrayIsArray, ArrayPrototypeSort, TypeErrorCtor, RangeErrorCtor } = p;
  const { ReflectApply, ReflectConstruct, ReflectDefineProperty } = p;
  const { MathMax, MathMin, MathTrunc, SymbolSpecies, SetCtor, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeHas, SymbolIsConcatSpreadable } = p;
  const MAX_SAFE = 2 ** 53 - 1;

  function toObject(value: unknown, method: string): Item {
    if (value === null || value === undefined) throw new TypeErrorCtor(`Array.prototype.${method} called on null or undefined`);
    return ObjectCtor(value) as Item;
  }

  function toIntegerOrInfinity(value: unknown): number {
    const n = +(value as number);
    return n !== n || n === 0 ? 0 : MathTrunc(n);
  }

  function lengthOf(o: Item): number {
    const n = toIntegerOrInfinity(o.length);
    return n <= 0 ? 0 : MathMin(n, MAX_SAFE);
  }

  /** A relative index (negative counts from the end), clamped to [0, length]. */
  function clampIndex(value: unknown, length: number): number {
    const n = toIntegerOrInfinity(value);
    return n < 0 ? MathMax(length + n, 0) : MathMin(n, length);
  }

  /** ToString, which (unlike `String(x)`) throws for a Symbol, as the builtins do. */
  function toString(value: unknown): string {
    return `${value as string}`;
  }

  function callable(fn: unknown): (...args: unknown[]) => unknown {
    if (typeof fn === 'function') return fn as (...args: unknown[]) => unknown;
    // Named without converting it: a tenant's toString must not run because an argument was wrong.
    const what = fn === null ? 'null' : typeof fn === 'object' ? '#<Object>' : typeof fn === 'symbol' ? 'Symbol()' : String(fn);
    throw new TypeErrorCtor(`${what} is not a function`);
  }

  // Assignments and deletes below are strict mode's (the runtime is strict): they throw a TypeError
  // where the spec's Set(O, P, V, true) and DeletePropertyOrThrow do.

  // One descriptor, without a prototype (a tenant's `Object.prototype.get` cannot turn it into an
  // accessor), reused for every element defined.
  const dataDescriptor = ObjectCreate(null) as PropertyDescriptor;
  dataDescriptor.writable = dataDescriptor.enumerable = dataDescriptor.configurable = true;

  function createDataProperty(o: Item, key: number, value: unknown): void {
    dataDescriptor.value = value;
    const defined = ReflectDefineProperty(o, key, dataDescriptor);
    dataDescriptor.value = undefined;
    if (!defined) throw new TypeErrorCtor(`Cannot add property ${key}, object is not extensible`);
  }

  /** A new array to fill, and CreateDataPropertyOrThrow on it. */
  interface Output {
    target: Item;
    put(key: number, value: unknown): void;
  }

  /**
   * An array made here is filled by plain assignment: the same as defining each element (it has no
   * own properties yet), unless the tenant put setters on Array.prototype's indices, and far faster:
   * defineProperty on elements turns an array's storage into a dictionary (~70x slower to fill).
   */
  function arrayOutput(length: number): Output {
    if (length > 2 ** 32 - 1) throw new RangeErrorCtor('Invalid array length');
    const target = new ArrayCtor(length) as unknown as Item;
    return { target, put: (key, value) => void (target[key] = value) };
  }

  /** ArraySpeciesCreate: a subclass's method makes an instance of the subclass. */
  function speciesOutput(original: Item, length: number): Output {
    if (!ArrayIsArray(original)) return arrayOutput(length);
    let ctor: unknown = original['constructor'];
    if (ctor !== null && typeof ctor === 'object') {
      ctor = (ctor as Item)[SymbolSpecies];
      if (ctor === null) ctor = undefined;
    }
    // Constructing %Array% itself is ArrayCreate.
    if (ctor === undefined || ctor === ArrayCtor) return arrayOutput(length);
    if (typeof ctor !== 'function') throw new TypeErrorCtor('object.constructor[Symbol.species] is not a constructor');
    const target = ReflectConstruct(ctor, [length]) as Item;
    return { target, put: (key, value) => createDataProperty(target, key, value) };
  }

  /** The loop of forEach, map, filter, some and every: calls `visit` for each element present. */
  function eachPresent(o: Item, length: number, visit: (value: unknown, index: number) => boolean | void): boolean {
    for (let k = 0; k < length; k++) {
      if (k in o && visit(o[k], k) === true) return true;
    }
    return false;
  }

  function flattenInto(target: Output, source: Item, sourceLength: number, start: number, depth: number, mapper?: (...args: unknown[]) => unknown, thisArg?: unknown): number {
    let targetIndex = start;
    for (let k = 0; k < sourceLength; k++) {
      if (!(k in source)) continue;
      let element = source[k];
      if (mapper) element = ReflectApply(mapper, thisArg, [element, k, source]);
      if (depth > 0 && ArrayIsArray(element)) {
        const inner = element as unknown as Item;
        targetIndex = flattenInto(target, inner, lengthOf(inner), targetIndex, depth - 1);
      } else {
        if (targetIndex >= MAX_SAFE) throw new TypeErrorCtor('Array too long');
        target.put(targetIndex++, element);
      }
    }
    return targetIndex;
  }

  /** SortCompare for no comparator (the builtin sort puts undefined last before comparing). */
  function compareStrings(a: unknown, b: unknown): number {
    const x = toString(a);
    const y = toString(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /**
   * SortIndexedProperties, then the builtin sort on the plain list, always with a JavaScript comparator:
   * the default order or a builtin comparator (`new Intl.Collator().compare`) would leave the builtin
   * sort without a function call to stop at (1.5 s for a million strings).
   */
  function sortedValues(o: Item, length: number, compare: unknown, skipHoles: boolean): unknown[] {
    const list: unknown[] = [];
    let n = 0;
    for (let k = 0; k < length; k++) {
      if (!skipHoles || k in o) list[n++] = o[k];
    }
    const comparator = compare === undefined ? compareStrings : (a: unknown, b: unknown) => ReflectApply(compare as (a: unknown, b: unknown) => number, undefined, [a, b]);
    return ArrayPrototypeSort(list, comparator as (a: unknown, b: unknown) => number);
  }

  /** splice's and toSpliced's arguments: where, how many to remove, how many to insert. */
  function spliceBounds(args: Args, length: number): { start: number; deleteCount: number; itemCount: number } {
    const start = clampIndex(args[0], length);
    const deleteCount =
      args.length === 0 ? 0 : args.length === 1 ? length - start : MathMin(MathMax(toIntegerOrInfinity(args[1]), 0), length - start);
    return { start, deleteCount, itemCount: MathMax(args.length - 2, 0) };
  }

  function checkComparator(compare: unknown, method: string): void {
    if (compare !== undefined && typeof compare !== 'function') {
      throw new TypeErrorCtor(`The comparison function must be either a function or undefined (Array.prototype.${method})`);
    }
  }

  /** Receivers being joined: an array that holds itself joins as '' there, as with the builtin. */
  const joining = new SetCtor<object>();

  function join(o: Item, length: number, separator: string, item: (value: unknown) => string): string {
    if (SetPrototypeHas(joining, o)) return '';
    SetPrototypeAdd(joining, o);
    try {
      let out = '';
      for (let k = 0; k < length; k++) {
        if (k > 0) out += separator;
        const value = o[k];
        if (value !== undefined && value !== null) out += item(value);
      }
      return out;
    } finally {
      SetPrototypeDelete(joining, o);
    }
  }


  /** IsConcatSpreadable. */
  function spreadable(value: unknown): boolean {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
    const flag = (value as Item)[SymbolIsConcatSpreadable];
    return flag !== undefined ? !!flag : ArrayIsArray(value);
  }

  return {
    concat(receiver, args) {
      const o = toObject(receiver, 'concat');
      const out = speciesOutput(o, 0);
      let n = 0;
      for (let i = -1; i < args.length; i++) {
        const item = i === -1 ? o : args[i];
        if (spreadable(item)) {
          const e = item as Item;
          const length = lengthOf(e);
          if (n + length > MAX_SAFE) throw new TypeErrorCtor('Array too long');
          for (let k = 0; k < length; k++, n++) if (k in e) out.put(n, e[k]);
        } else {
          if (n >= MAX_SAFE) throw new TypeErrorCtor('Array too long');
          out.put(n++, item);
        }
      }
      out.target.length = n;
      return out.target;
    },

    copyWithin(receiver, args) {
      const o = toObject(receiver, 'copyWithin');
      const length = lengthOf(o);
      let to = clampIndex(args[0], length);
      let from = clampIndex(args[1], length);
      const final = args[2] === undefined ? length : clampIndex(args[2], length);
      let count = MathMin(final - from, length - to);
      let step = 1;
      if (from < to && to < from + count) {
        step = -1;
        from += count - 1;
        to += count - 1;
      }
      for (; count > 0; count--, from += step, to += step) {
        if (from in o) o[to] = o[from];
        else delete o[to];
      }
      return o;
    },

    every(receiver, args) {
      const o = toObject(receiver, 'every');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      return !eachPresent(o, length, (value, k) => !ReflectApply(fn, args[1], [value, k, o]));
    },

    filter(receiver, args) {
      const o = toObject(receiver, 'filter');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      const out = speciesOutput(o, 0);
      let n = 0;
      eachPresent(o, length, (value, k) => {
        if (ReflectApply(fn, args[1], [value, k, o])) out.put(n++, value);
      });
      return out.target;
    },

    flat(receiver, args) {
      const o = toObject(receiver, 'flat');
      const length = lengthOf(o);
      const depth = args[0] === undefined ? 1 : MathMax(toIntegerOrInfinity(args[0]), 0);
      const out = speciesOutput(o, 0);
      flattenInto(out, o, length, 0, depth);
      return out.target;
    },

    flatMap(receiver, args) {
      const o = toObject(receiver, 'flatMap');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      const out = speciesOutput(o, 0);
      flattenInto(out, o, length, 0, 1, fn, args[1]);
      return out.target;
    },

    forEach(receiver, args) {
      const o = toObject(receiver, 'forEach');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      eachPresent(o, length, (value, k) => {
        ReflectApply(fn, args[1], [value, k, o]);
      });
      return undefined;
    },

    indexOf(receiver, args) {
      const o = toObject(receiver, 'indexOf');
      const length = lengthOf(o);
      if (length === 0) return -1;
      const n = toIntegerOrInfinity(args[1]);
      if (n === Infinity) return -1;
      for (let k = n >= 0 ? n : MathMax(length + n, 0); k < length; k++) {
        if (k in o && o[k] === args[0]) return k;
      }
      return -1;
    },

    join(receiver, args) {
      const o = toObject(receiver, 'join');
      const length = lengthOf(o);
      const separator = args[0] === undefined ? ',' : toString(args[0]);
      return join(o, length, separator, toString);
    },

    lastIndexOf(receiver, args) {
      const o = toObject(receiver, 'lastIndexOf');
      const length = lengthOf(o);
      if (length === 0) return -1;
      const n = args.length > 1 ? toIntegerOrInfinity(args[1]) : length - 1;
      if (n === -Infinity) return -1;
      for (let k = n >= 0 ? MathMin(n, length - 1) : length + n; k >= 0; k--) {
        if (k in o && o[k] === args[0]) return k;
      }
      return -1;
    },

    map(receiver, args) {
      const o = toObject(receiver, 'map');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      const out = speciesOutput(o, length);
      eachPresent(o, length, (value, k) => {
        out.put(k, ReflectApply(fn, args[1], [value, k, o]));
      });
      return out.target;
    },

    reduce(receiver, args) {
      const o = toObject(receiver, 'reduce');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      let k = 0;
      let accumulator = args[1];
      if (args.length < 2) {
        while (k < length && !(k in o)) k++;
        if (k >= length) throw new TypeErrorCtor('Reduce of empty array with no initial value');
        accumulator = o[k++];
      }
      for (; k < length; k++) if (k in o) accumulator = ReflectApply(fn, undefined, [accumulator, o[k], k, o]);
      return accumulator;
    },

    reduceRight(receiver, args) {
      const o = toObject(receiver, 'reduceRight');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      let k = length - 1;
      let accumulator = args[1];
      if (args.length < 2) {
        while (k >= 0 && !(k in o)) k--;
        if (k < 0) throw new TypeErrorCtor('Reduce of empty array with no initial value');
        accumulator = o[k--];
      }
      for (; k >= 0; k--) if (k in o) accumulator = ReflectApply(fn, undefined, [accumulator, o[k], k, o]);
      return accumulator;
    },

    reverse(receiver) {
      const o = toObject(receiver, 'reverse');
      const length = lengthOf(o);
      const middle = MathTrunc(length / 2);
      for (let lower = 0; lower !== middle; lower++) {
        const upper = length - lower - 1;
        const lowerExists = lower in o;
        const lowerValue = lowerExists ? o[lower] : undefined;
        const upperExists = upper in o;
        const upperValue = upperExists ? o[upper] : undefined;
        if (upperExists) o[lower] = upperValue;
        else if (lowerExists) delete o[lower];
        if (lowerExists) o[upper] = lowerValue;
        else if (upperExists) delete o[upper];
      }
      return o;
    },

    shift(receiver) {
      const o = toObject(receiver, 'shift');
      const length = lengthOf(o);
      if (length === 0) {
        o.length = 0;
        return undefined;
      }
      const first = o[0];
      for (let k = 1; k < length; k++) {
        if (k in o) o[k - 1] = o[k];
        else delete o[k - 1];
      }
      delete o[length - 1];
      o.length = length - 1;
      return first;
    },

    slice(receiver, args) {
      const o = toObject(receiver, 'slice');
      const length = lengthOf(o);
      let k = clampIndex(args[0], length);
      const final = args[1] === undefined ? length : clampIndex(args[1], length);
      const out = speciesOutput(o, MathMax(final - k, 0));
      let n = 0;
      for (; k < final; k++, n++) if (k in o) out.put(n, o[k]);
      out.target.length = n;
      return out.target;
    },

    some(receiver, args) {
      const o = toObject(receiver, 'some');
      const length = lengthOf(o);
      const fn = callable(args[0]);
      return eachPresent(o, length, (value, k) => !!ReflectApply(fn, args[1], [value, k, o]));
    },

    sort(receiver, args) {
      checkComparator(args[0], 'sort');
      const o = toObject(receiver, 'sort');
      const length = lengthOf(o);
      const sorted = sortedValues(o, length, args[0], true);
      let j = 0;
      for (; j < sorted.length; j++) o[j] = sorted[j];
      // Holes go last: whatever was past the present elements is deleted.
      for (; j < length; j++) delete o[j];
      return o;
    },

    splice(receiver, args) {
      const o = toObject(receiver, 'splice');
      const length = lengthOf(o);
      const { start, itemCount, deleteCount } = spliceBounds(args, length);
      if (length + itemCount - deleteCount > MAX_SAFE) throw new TypeErrorCtor('Array too long');
      const removed = speciesOutput(o, deleteCount);
      for (let k = 0; k < deleteCount; k++) if (start + k in o) removed.put(k, o[start + k]);
      removed.target.length = deleteCount;
      if (itemCount < deleteCount) {
        for (let k = start; k < length - deleteCount; k++) {
          if (k + deleteCount in o) o[k + itemCount] = o[k + deleteCount];
          else delete o[k + itemCount];
        }
        for (let k = length; k > length - deleteCount + itemCount; k--) delete o[k - 1];
      } else if (itemCount > deleteCount) {
        for (let k = length - deleteCount; k > start; k--) {
          if (k + deleteCount - 1 in o) o[k + itemCount - 1] = o[k + deleteCount - 1];
          else delete o[k + itemCount - 1];
        }
      }
      for (let i = 0; i < itemCount; i++) o[start + i] = args[i + 2];
      o.length = length - deleteCount + itemCount;
      return removed.target;
    },

    toLocaleString(receiver: unknown) {
      const o = toObject(receiver, 'toLocaleString');
      const length = lengthOf(o);
      return join(o, length, ',', (value) => {
        const method = (ObjectCtor(value) as Item).toLocaleString;
        return toString(ReflectApply(callable(method), value, []));
      });
    },

    toReversed(receiver) {
      const o = toObject(receiver, 'toReversed');
      const length = lengthOf(o);
      const out = arrayOutput(length);
      for (let k = 0; k < length; k++) out.put(k, o[length - k - 1]);
      return out.target;
    },

    toSorted(receiver, args) {
      checkComparator(args[0], 'toSorted');
      const o = toObject(receiver, 'toSorted');
      const length = lengthOf(o);
      const out = arrayOutput(length);
      const sorted = sortedValues(o, length, args[0], false);
      for (let k = 0; k < length; k++) out.put(k, sorted[k]);
      return out.target;
    },

    toSpliced(receiver, args) {
      const o = toObject(receiver, 'toSpliced');
      const length = lengthOf(o);
      const { start, itemCount, deleteCount: skipCount } = spliceBounds(args, length);
      const newLength = length + itemCount - skipCount;
      if (newLength > MAX_SAFE) throw new TypeErrorCtor('Array too long');
      const out = arrayOutput(newLength);
      let i = 0;
      for (; i < start; i++) out.put(i, o[i]);
      for (let j = 0; j < itemCount; j++) out.put(i++, args[j + 2]);
      for (let r = start + skipCount; i < newLength; i++, r++) out.put(i, o[r]);
      return out.target;
    },

    unshift(receiver, args) {
      const o = toObject(receiver, 'unshift');
      const length = lengthOf(o);
      const count = args.length;
      if (count > 0) {
        if (length + count > MAX_SAFE) throw new TypeErrorCtor('Array too long');
        for (let k = length; k > 0; k--) {
          if (k - 1 in o) o[k + count - 1] = o[k - 1];
          else delete o[k + count - 1];
        }
        for (let j = 0; j < count; j++) o[j] = args[j];
      }
      o.length = length + count;
      return length + count;
    },

    with(receiver, args) {
      const o = toObject(receiver, 'with');
      const length = lengthOf(o);
      const relative = toIntegerOrInfinity(args[0]);
      const actual = relative >= 0 ? relative : length + relative;
      if (actual >= length || actual < 0) throw new RangeErrorCtor('Invalid index');
      const out = arrayOutput(length);
      for (let k = 0; k < length; k++) out.put(k, k === actual ? args[1] : o[k]);
      return out.target;
    },
  };
}

/**
 * Intrinsics captured when the bundle runs, before any tenant code.
 *
 * Tenant code shares the realm with the runtime and may replace anything reachable from
 * `globalThis` (`Promise.prototype.then = …`, `Array.prototype.push = …`, `JSON.parse = …`).
 * Code that runs after tenant code has started (dispatch, body handling, the global classes)
 * calls these copies instead, so a worker that breaks its own globals cannot break the
 * dispatch of later requests. Methods are "uncurried": `ArrayPrototypePush(list, x)`
 * calls the original `Array.prototype.push` with `this = list`, as Node's primordials do.
 *
 * Syntax that looks methods up at run time is avoided on those paths: no `for…of` or spread
 * over arrays (Array.prototype[Symbol.iterator]), no array destructuring, no `RegExp#test`
 * (it calls the overridable `exec`). `await` of a native promise does not look up `then`.
 */

const { bind, call } = Function.prototype;

/** The Function constructor, for evaluating the runtime's own chunks (runtime/chunks.ts). */
export const FunctionCtor = Function;

/** `uncurryThis(fn)(self, ...args)` is `fn.call(self, ...args)` with the original `call`. */
export const uncurryThis: <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) => (self: T, ...args: A) => R =
  bind.bind(call) as never;

function getter<T, R>(proto: object, name: PropertyKey): (self: T) => R {
  return uncurryThis(Reflect.getOwnPropertyDescriptor(proto, name)!.get as (this: T) => R);
}

export const {
  apply: ReflectApply,
  construct: ReflectConstruct,
  defineProperty: ReflectDefineProperty,
  deleteProperty: ReflectDeleteProperty,
  getOwnPropertyDescriptor: ReflectGetOwnPropertyDescriptor,
  ownKeys: ReflectOwnKeys,
  set: ReflectSet,
} = Reflect;

export const {
  create: ObjectCreate,
  freeze: ObjectFreeze,
  getOwnPropertySymbols: ObjectGetOwnPropertySymbols,
  getPrototypeOf: ObjectGetPrototypeOf,
  hasOwn: ObjectHasOwn,
  is: ObjectIs,
  setPrototypeOf: ObjectSetPrototypeOf,
} = Object;
export const ObjectCtor = Object;

/**
 * A property descriptor that inherits nothing. One made by a plain literal inherits Object.prototype's
 * properties, so a tenant's `Object.prototype.get` (or `set`, `value`, `writable`) would change what the
 * runtime defines, or make the definition throw. The type makes every call site say `__proto__: null`;
 * data properties go through defineValue below.
 */
export type OwnDescriptor = PropertyDescriptor & { __proto__: null };
export const ObjectDefineProperty = Object.defineProperty as <T>(target: T, key: PropertyKey, descriptor: OwnDescriptor) => T;

/** defineValue's attributes. */
export const WRITABLE = 1;
export const ENUMERABLE = 2;
export const CONFIGURABLE = 4;

// One descriptor, reused: V8 makes each `{ __proto__: null, … }` literal a dictionary-mode object, and
// the runtime's boot made ~35 KB of them in every isolate, garbage until its first collection.
const dataDescriptor: OwnDescriptor = { __proto__: null, value: undefined, writable: false, enumerable: false, configurable: false };

/** Defines a data property with `attributes` (WRITABLE | ENUMERABLE | CONFIGURABLE), inheriting nothing. */
export function defineValue(target: object, key: PropertyKey, value: unknown, attributes: number): void {
  dataDescriptor.value = value;
  dataDescriptor.writable = (attributes & WRITABLE) !== 0;
  dataDescriptor.enumerable = (attributes & ENUMERABLE) !== 0;
  dataDescriptor.configurable = (attributes & CONFIGURABLE) !== 0;
  ObjectDefineProperty(target, key, dataDescriptor);
  dataDescriptor.value = undefined;
}
export const ObjectPrototype = Object.prototype;
export const ObjectPrototypeToString = uncurryThis(Object.prototype.toString);
export const ObjectPrototypePropertyIsEnumerable = uncurryThis(Object.prototype.propertyIsEnumerable);
export const ObjectPrototypeIsPrototypeOf = uncurryThis(Object.prototype.isPrototypeOf) as (prototype: object, value: unknown) => boolean;

export const FunctionPrototypeToString = uncurryThis(Function.prototype.toString);

export const ArrayCtor = Array;
export const { isArray: ArrayIsArray } = Array;
export const ArrayPrototypeJoin = uncurryThis(Array.prototype.join) as (self: readonly unknown[], sep: string) => string;
export const ArrayPrototypeSort = uncurryThis(Array.prototype.sort) as <T>(self: T[], cmp: (a: T, b: T) => number) => T[];
export const ArrayPrototypeSplice = uncurryThis(Array.prototype.splice) as <T>(
  self: T[],
  start: number,
  deleteCount: number,
) => T[];

export const { fromCharCode: StringFromCharCode } = String;
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
export const StringPrototypeIncludes = uncurryThis(String.prototype.includes);
export const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf);
export const StringPrototypePadStart = uncurryThis(String.prototype.padStart);
export const StringPrototypeSlice = uncurryThis(String.prototype.slice);
export const StringPrototypeReplaceAll = uncurryThis(String.prototype.replaceAll) as unknown as (self: string, search: string, replacement: string) => string;
export const StringPrototypeSplit = uncurryThis(String.prototype.split) as unknown as (self: string, sep: string) => string[];
export const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith);
export const StringPrototypeToLowerCase = uncurryThis(String.prototype.toLowerCase);
export const StringPrototypeToUpperCase = uncurryThis(String.prototype.toUpperCase);
export const StringPrototypeToWellFormed = uncurryThis(String.prototype.toWellFormed);
export const StringPrototypeTrim = uncurryThis(String.prototype.trim);

export const RegExpCtor = RegExp;
export const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec);
export const RegExpPrototypeToString = uncurryThis(RegExp.prototype.toString);
export const RegExpPrototypeGetSource = getter<RegExp, string>(RegExp.prototype, 'source');
export const RegExpPrototypeGetFlags = getter<RegExp, string>(RegExp.prototype, 'flags');

export const NumberPrototypeToString = uncurryThis(Number.prototype.toString) as (self: number, radix?: number) => string;
export const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf);
export const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf);
export const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf);
export const BigIntPrototypeValueOf = uncurryThis(BigInt.prototype.valueOf);
export const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString);
export const SymbolPrototypeValueOf = uncurryThis(Symbol.prototype.valueOf);
export const { isNaN: NumberIsNaN, isFinite: NumberIsFinite } = Number;
export const { ceil: MathCeil, max: MathMax, min: MathMin, trunc: MathTrunc, random: MathRandom } = Math;
export const { now: DateNow, parse: DateParse } = Date;
export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);

export const { parse: JSONParse, stringify: JSONStringify } = JSON;
export const DecodeURIComponent = decodeURIComponent;

export const { isConcatSpreadable: SymbolIsConcatSpreadable, iterator: SymbolIterator, replace: SymbolReplace, species: SymbolSpecies, split: SymbolSplit, toStringTag: SymbolToStringTag } = Symbol;
/** %IteratorPrototype%: the [[Prototype]] of Web IDL iterator prototypes (it gives them [Symbol.iterator]() { return this }). */
export const IteratorPrototype = ObjectGetPrototypeOf(ObjectGetPrototypeOf([][Symbol.iterator]())) as object;

export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const RangeErrorCtor = RangeError;
export const SyntaxErrorCtor = SyntaxError;
export const { captureStackTrace: ErrorCaptureStackTrace, isError: ErrorIsError } = Error;

export const PromiseCtor = Promise;
export const PromisePrototype = Promise.prototype;
export const PromisePrototypeThen = uncurryThis(Promise.prototype.then) as <T, R1 = T, R2 = never>(
  self: Promise<T>,
  onFulfilled: ((value: T) => R1 | PromiseLike<R1>) | undefined,
  onRejected?: (reason: unknown) => R2 | PromiseLike<R2>,
) => Promise<R1 | R2>;
/** A settled, native promise; unlike `Promise.resolve` it never reads `constructor` or `then` of a value. */
export function PromiseResolved<T>(value: T): Promise<T> {
  return new PromiseCtor<T>((resolve) => resolve(value));
}

export const MapCtor = Map;
export const MapPrototypeGet = uncurryThis(Map.prototype.get) as <K, V>(self: Map<K, V>, key: K) => V | undefined;
export const MapPrototypeSet = uncurryThis(Map.prototype.set) as <K, V>(self: Map<K, V>, key: K, value: V) => Map<K, V>;
export const MapPrototypeDelete = uncurryThis(Map.prototype.delete) as <K, V>(self: Map<K, V>, key: K) => boolean;
export const MapPrototypeForEach = uncurryThis(Map.prototype.forEach) as <K, V>(
  self: Map<K, V>,
  cb: (value: V, key: K) => void,
) => void;
export const MapPrototypeGetSize = getter<Map<unknown, unknown>, number>(Map.prototype, 'size');
export const MapPrototypeKeys = uncurryThis(Map.prototype.keys) as <K, V>(self: Map<K, V>) => MapIterator<K>;
export const MapIteratorPrototypeNext = uncurryThis(ObjectGetPrototypeOf(new Map().keys()).next) as <K>(self: MapIterator<K>) => IteratorResult<K, undefined>;
export const SetCtor = Set;
export const SetPrototypeAdd = uncurryThis(Set.prototype.add) as <T>(self: Set<T>, value: T) => Set<T>;
export const SetPrototypeDelete = uncurryThis(Set.prototype.delete) as <T>(self: Set<T>, value: T) => boolean;
export const SetPrototypeHas = uncurryThis(Set.prototype.has) as <T>(self: Set<T>, value: T) => boolean;
export const SetPrototypeForEach = uncurryThis(Set.prototype.forEach) as <T>(self: Set<T>, cb: (value: T) => void) => void;
export const SetPrototypeGetSize = getter<Set<unknown>, number>(Set.prototype, 'size');
export const WeakSetCtor = WeakSet;
export const WeakSetPrototypeAdd = uncurryThis(WeakSet.prototype.add) as <T extends WeakKey>(self: WeakSet<T>, value: T) => WeakSet<T>;
export const WeakSetPrototypeHas = uncurryThis(WeakSet.prototype.has) as <T extends WeakKey>(self: WeakSet<T>, value: T) => boolean;
export const WeakRefCtor = WeakRef;
export const WeakRefPrototypeDeref = uncurryThis(WeakRef.prototype.deref) as <T extends WeakKey>(self: WeakRef<T>) => T | undefined;
export const { keyFor: SymbolKeyFor } = Symbol;
export const WeakMapCtor = WeakMap;
export const WeakMapPrototypeGet = uncurryThis(WeakMap.prototype.get) as <K extends WeakKey, V>(
  self: WeakMap<K, V>,
  key: K,
) => V | undefined;
export const WeakMapPrototypeSet = uncurryThis(WeakMap.prototype.set) as <K extends WeakKey, V>(
  self: WeakMap<K, V>,
  key: K,
  value: V,
) => WeakMap<K, V>;
export const WeakMapPrototypeDelete = uncurryThis(WeakMap.prototype.delete) as <K extends WeakKey, V>(self: WeakMap<K, V>, key: K) => boolean;
export const WeakMapPrototypeHas = uncurryThis(WeakMap.prototype.has) as <K extends WeakKey, V>(
  self: WeakMap<K, V>,
  key: K,
) => boolean;

export const { isView: ArrayBufferIsView } = ArrayBuffer;
export const ArrayBufferPrototypeGetByteLength = getter<ArrayBuffer, number>(ArrayBuffer.prototype, 'byteLength');
export const ArrayBufferPrototypeSlice = uncurryThis(ArrayBuffer.prototype.slice);
export const ArrayBufferPrototypeTransfer = uncurryThis(ArrayBuffer.prototype.transfer);
export const ArrayBufferPrototypeGetDetached = getter<ArrayBuffer, boolean>(ArrayBuffer.prototype, 'detached');
export const SharedArrayBufferPrototypeGetByteLength = getter<SharedArrayBuffer, number>(
  SharedArrayBuffer.prototype,
  'byteLength',
);
export const Uint8ArrayCtor = Uint8Array;
export const Uint16ArrayCtor = Uint16Array;
export const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype) as object;
export const TypedArrayPrototypeGetBuffer = getter<ArrayBufferView, ArrayBufferLike>(TypedArrayPrototype, 'buffer');
export const TypedArrayPrototypeGetByteLength = getter<ArrayBufferView, number>(TypedArrayPrototype, 'byteLength');
export const TypedArrayPrototypeGetByteOffset = getter<ArrayBufferView, number>(TypedArrayPrototype, 'byteOffset');
export const TypedArrayPrototypeGetLength = getter<ArrayBufferView, number>(TypedArrayPrototype, 'length');
/** The `Symbol.toStringTag` getter of %TypedArray%: the constructor name, or undefined if not a typed array. */
export const TypedArrayPrototypeGetSymbolToStringTag = getter<unknown, string | undefined>(
  TypedArrayPrototype,
  Symbol.toStringTag,
);
export const TypedArrayPrototypeSet = uncurryThis(Uint8Array.prototype.set) as (
  self: Uint8Array,
  source: ArrayLike<number>,
  offset?: number,
) => void;
export const DataViewPrototypeGetBuffer = getter<DataView, ArrayBufferLike>(DataView.prototype, 'buffer');
export const DataViewPrototypeGetByteLength = getter<DataView, number>(DataView.prototype, 'byteLength');
export const DataViewPrototypeGetByteOffset = getter<DataView, number>(DataView.prototype, 'byteOffset');

export const globalThisRef = globalThis;

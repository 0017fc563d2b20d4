/**
 * structuredClone (https://html.spec.whatwg.org/multipage/structured-data.html#dom-structuredclone),
 * written in JavaScript: V8's serializer is not reachable from inside an isolate.
 *
 * Supported: primitives, the wrapper objects, Date, RegExp, ArrayBuffer, typed arrays and DataView
 * (views sharing a buffer keep sharing the cloned one), Map, Set, Error types (name, message,
 * stack, cause), DOMException, arrays (length and holes kept), and other objects as plain objects
 * of their own enumerable string-keyed properties. Cycles and shared references are preserved.
 * Functions, symbols, SharedArrayBuffer, WeakMap/WeakSet/WeakRef, promises and the runtime's own
 * platform objects (Request, Headers, …) throw a "DataCloneError" DOMException.
 *
 * `transfer` accepts ArrayBuffers: they are detached, and the clone owns their bytes.
 * Kinds are told apart by Object.prototype.toString and confirmed with brand checks where a wrong
 * guess could misbehave; an object that hides its kind behind its own Symbol.toStringTag is
 * cloned as a plain object.
 */
import {
  ArrayBufferPrototypeGetDetached,
  ArrayBufferPrototypeSlice,
  ArrayBufferPrototypeTransfer,
  ArrayIsArray,
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  CONFIGURABLE,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  DatePrototypeGetTime,
  defineValue,
  ENUMERABLE,
  ErrorIsError,
  globalThisRef,
  MapCtor,
  MapPrototypeForEach,
  MapPrototypeGet,
  MapPrototypeGetSize,
  MapPrototypeSet,
  NumberPrototypeValueOf,
  ObjectCreate,
  ObjectGetPrototypeOf,
  ObjectPrototype,
  ObjectPrototypePropertyIsEnumerable,
  ObjectPrototypeToString,
  ReflectGetOwnPropertyDescriptor,
  ReflectOwnKeys,
  RegExpPrototypeGetFlags,
  RegExpPrototypeGetSource,
  SetPrototypeAdd,
  SetPrototypeForEach,
  SetPrototypeGetSize,
  StringPrototypeValueOf,
  SymbolIterator,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  WRITABLE,
} from '../primordials.ts';
import { isArrayBuffer } from '../encoding/buffer-source.ts';
import { isPlatformObject } from './define.ts';
import { DOMException, domExceptionParts } from './dom-exception.ts';

// Captured now: the typed array constructors clones are made with, and the Error types.
const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => object> = ObjectCreate(null);
for (const name of [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]) {
  const ctor = (globalThisRef as unknown as Record<string, unknown>)[name];
  if (typeof ctor === 'function') TYPED_ARRAYS[name] = ctor as never;
}
const ERROR_TYPES: Record<string, ErrorConstructor> = ObjectCreate(null);
for (const ctor of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
  ERROR_TYPES[ctor.prototype.name] = ctor;
}
const ErrorPrototype = Error.prototype;
const DataViewCtor = DataView;
const DateCtor = Date;
const RegExpCtor = RegExp;
const SetCtor = Set;
const ObjectCtor = Object;

function dataCloneError(what: string): DOMException {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}

export function structuredClone(value: unknown, options: unknown = undefined): unknown {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  }
  const transfer = transferList(options);
  const memory = new MapCtor<object, unknown>();
  // Transferred buffers are copied like the others; detaching them afterwards gives the same result
  // as moving them, and every view of them is cloned before they lose their bytes.
  const clone = cloneValue(value, memory);
  for (let i = 0; i < transfer.length; i++) ArrayBufferPrototypeTransfer(transfer[i]!);
  return clone;
}

function transferList(options: unknown): ArrayBuffer[] {
  if (options === undefined || options === null) return [];
  if (typeof options !== 'object') {
    throw new TypeError("Failed to execute 'structuredClone': The provided value is not of type 'StructuredSerializeOptions'.");
  }
  const list = (options as { transfer?: unknown }).transfer;
  if (list === undefined) return [];
  if (typeof list !== 'object' || list === null || typeof (list as { [SymbolIterator]?: unknown })[SymbolIterator] !== 'function') {
    throw new TypeError("Failed to execute 'structuredClone': The provided value cannot be converted to a sequence.");
  }
  const buffers: ArrayBuffer[] = [];
  for (const item of list as Iterable<unknown>) {
    if (!isArrayBuffer(item)) throw dataCloneError('A transferable other than ArrayBuffer');
    for (let i = 0; i < buffers.length; i++) {
      if (buffers[i] === item) throw dataCloneError('An ArrayBuffer listed twice for transfer');
    }
    if (ArrayBufferPrototypeGetDetached(item)) throw dataCloneError('A detached ArrayBuffer');
    buffers[buffers.length] = item;
  }
  return buffers;
}

function cloneValue(value: unknown, memory: Map<object, unknown>): unknown {
  if (typeof value === 'symbol') throw dataCloneError('A Symbol');
  if (typeof value === 'function') throw dataCloneError('A function');
  if (typeof value !== 'object' || value === null) return value;
  const seen = MapPrototypeGet(memory, value);
  if (seen !== undefined) return seen;
  if (isPlatformObject(value)) {
    // DOMException is serializable (https://webidl.spec.whatwg.org/#idl-DOMException): name and message.
    const parts = domExceptionParts(value);
    if (parts !== null) return remember(memory, value, new DOMException(parts.message, parts.name));
    throw dataCloneError(ObjectPrototypeToString(value));
  }
  if (ArrayIsArray(value)) return cloneArray(value, memory);
  if (ErrorIsError(value)) return cloneError(value as Error, memory);
  const tag = ObjectPrototypeToString(value);
  switch (tag) {
    case '[object Date]':
      return remember(memory, value, new DateCtor(DatePrototypeGetTime(value as Date)));
    case '[object RegExp]':
      return remember(memory, value, new RegExpCtor(RegExpPrototypeGetSource(value as RegExp), RegExpPrototypeGetFlags(value as RegExp)));
    case '[object Boolean]':
      return remember(memory, value, ObjectCtor(BooleanPrototypeValueOf(value as unknown as boolean)));
    case '[object Number]':
      return remember(memory, value, ObjectCtor(NumberPrototypeValueOf(value as unknown as number)));
    case '[object String]':
      return remember(memory, value, ObjectCtor(StringPrototypeValueOf(value as unknown as string)));
  }
  if (tag === '[object Function]' || typeof value === 'function') throw dataCloneError('A function');
  // Brand-checked only when the tag says so: the check throws inside for anything else, and an
  // exception per plain object was most of a clone's cost.
  if (tag === '[object ArrayBuffer]' && isArrayBuffer(value)) {
    if (ArrayBufferPrototypeGetDetached(value)) throw dataCloneError('A detached ArrayBuffer');
    return remember(memory, value, ArrayBufferPrototypeSlice(value, 0));
  }
  const typedName = TypedArrayPrototypeGetSymbolToStringTag(value);
  if (typedName !== undefined) {
    const view = value as Uint8Array;
    const buffer = cloneValue(TypedArrayPrototypeGetBuffer(view), memory) as ArrayBuffer;
    const ctor = TYPED_ARRAYS[typedName]!;
    return remember(memory, value, new ctor(buffer, TypedArrayPrototypeGetByteOffset(view), TypedArrayPrototypeGetLength(view)));
  }
  switch (tag) {
    case '[object Map]':
      if (isBrand(MapPrototypeGetSize, value)) return cloneMap(value as Map<unknown, unknown>, memory);
      break;
    case '[object Set]':
      if (isBrand(SetPrototypeGetSize, value)) return cloneSet(value as Set<unknown>, memory);
      break;
    case '[object DataView]':
      if (isBrand(DataViewPrototypeGetBuffer, value)) {
        const view = value as DataView;
        const buffer = cloneValue(DataViewPrototypeGetBuffer(view), memory) as ArrayBuffer;
        return remember(memory, value, new DataViewCtor(buffer, DataViewPrototypeGetByteOffset(view), DataViewPrototypeGetByteLength(view)));
      }
      break;
    case '[object BigInt]':
      if (isBrand(BigIntPrototypeValueOf, value)) return remember(memory, value, ObjectCtor(BigIntPrototypeValueOf(value as unknown as bigint)));
      break;
    case '[object Symbol]':
    case '[object SharedArrayBuffer]':
    case '[object Promise]':
    case '[object WeakMap]':
    case '[object WeakSet]':
    case '[object WeakRef]':
    case '[object FinalizationRegistry]':
      throw dataCloneError(tag);
  }
  return cloneObject(value, ObjectCreate(ObjectPrototype), memory);
}

function isBrand(getter: (value: never) => unknown, value: object): boolean {
  try {
    getter(value as never);
    return true;
  } catch {
    return false;
  }
}

function remember<T>(memory: Map<object, unknown>, original: object, copy: T): T {
  MapPrototypeSet(memory, original, copy);
  return copy;
}

/** Own enumerable string-keyed data (getters run, as [[Get]] does), onto `target`. */
function cloneObject<T extends object>(source: object, target: T, memory: Map<object, unknown>, skip?: (key: string) => boolean): T {
  MapPrototypeSet(memory, source, target);
  const keys = ReflectOwnKeys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (typeof key !== 'string' || (skip !== undefined && skip(key))) continue;
    if (!ObjectPrototypePropertyIsEnumerable(source, key)) continue;
    const copy = cloneValue((source as Record<string, unknown>)[key], memory);
    defineValue(target, key, copy, WRITABLE | ENUMERABLE | CONFIGURABLE);
  }
  return target;
}

function cloneArray(source: unknown[], memory: Map<object, unknown>): unknown[] {
  const target: unknown[] = [];
  target.length = source.length;
  return cloneObject(source, target, memory, (key) => key === 'length');
}

function cloneMap(source: Map<unknown, unknown>, memory: Map<object, unknown>): Map<unknown, unknown> {
  const target = new MapCtor<unknown, unknown>();
  MapPrototypeSet(memory, source, target);
  // Entries are collected first: cloning runs getters that could change the map.
  const entries: unknown[] = [];
  MapPrototypeForEach(source, (value, key) => {
    entries[entries.length] = key;
    entries[entries.length] = value;
  });
  for (let i = 0; i < entries.length; i += 2) {
    MapPrototypeSet(target, cloneValue(entries[i], memory), cloneValue(entries[i + 1], memory));
  }
  return target;
}

function cloneSet(source: Set<unknown>, memory: Map<object, unknown>): Set<unknown> {
  const target = new SetCtor<unknown>();
  MapPrototypeSet(memory, source, target);
  const values: unknown[] = [];
  SetPrototypeForEach(source, (value) => {
    values[values.length] = value;
  });
  for (let i = 0; i < values.length; i++) SetPrototypeAdd(target, cloneValue(values[i], memory));
  return target;
}

const ERROR_FIELDS = ['message', 'stack', 'cause'] as const;

// https://html.spec.whatwg.org/multipage/structured-data.html (the [[ErrorData]] steps)
function cloneError(source: Error, memory: Map<object, unknown>): Error {
  let name = 'Error';
  let proto: object | null = source;
  while (proto !== null && proto !== ErrorPrototype) {
    const own = ReflectGetOwnPropertyDescriptor(proto, 'name');
    if (own !== undefined && 'value' in own) {
      name = `${own.value}`;
      break;
    }
    proto = ObjectGetPrototypeOf(proto);
  }
  const ctor = ERROR_TYPES[name] ?? Error;
  const target = ObjectCreate(ctor.prototype) as Error;
  MapPrototypeSet(memory, source, target);
  for (let i = 0; i < ERROR_FIELDS.length; i++) {
    const key = ERROR_FIELDS[i]!;
    const descriptor = ReflectGetOwnPropertyDescriptor(source, key);
    if (descriptor === undefined) continue;
    // V8 makes `stack` an own accessor; message and cause are data properties.
    let field: unknown;
    if ('value' in descriptor) field = descriptor.value;
    else if (key === 'stack') field = source.stack;
    else continue;
    const copy = key === 'cause' ? cloneValue(field, memory) : `${field as string}`;
    defineValue(target, key, copy, WRITABLE | CONFIGURABLE);
  }
  return target;
}

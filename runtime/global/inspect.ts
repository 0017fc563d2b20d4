/**
 * A small util.inspect: turns any value into one line of text for console output and error
 * reports. Objects print Node-style (`{ a: 1, b: [ 1, 2 ] }`), strings nested in them quoted,
 * Errors with their stack. It never runs getters, stops at a depth and marks cycles. The output
 * is built against a budget so a huge value cannot produce a huge string: past `maxLength`
 * formatting stops and the caller truncates.
 */
import {
  ArrayIsArray,
  ArrayPrototypeJoin,
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  DatePrototypeGetTime,
  DatePrototypeToISOString,
  ErrorCtor,
  FunctionPrototypeToString,
  MapPrototypeForEach,
  MapPrototypeGetSize,
  NumberPrototypeToString,
  NumberIsNaN,
  ObjectCreate,
  NumberPrototypeValueOf,
  ObjectGetPrototypeOf,
  ObjectIs,
  ObjectPrototypePropertyIsEnumerable,
  ObjectPrototypeToString,
  ReflectGetOwnPropertyDescriptor,
  ReflectOwnKeys,
  RegExpPrototypeExec,
  RegExpPrototypeToString,
  SetPrototypeForEach,
  SetPrototypeGetSize,
  StringPrototypeCharCodeAt,
  StringPrototypeIncludes,
  StringPrototypeIndexOf,
  StringPrototypePadStart,
  StringPrototypeSlice,
  StringPrototypeStartsWith,
  StringPrototypeValueOf,
  SymbolPrototypeToString,
  SymbolPrototypeValueOf,
  SymbolToStringTag,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  ArrayBufferPrototypeGetByteLength,
  WeakMapCtor,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
} from '../primordials.ts';

/** Runtime classes register how they print (Headers, Request, …): a plain object shown instead. */
const inspectors = new WeakMapCtor<object, (value: object) => object>();

export function registerInspector(prototype: object, toPlain: (value: never) => object): void {
  WeakMapPrototypeSet(inspectors, prototype, toPlain as (value: object) => object);
}

export interface InspectOptions {
  /** Nesting levels shown before `[Object]`. */
  depth: number;
  /** Characters after which formatting gives up (the result is then at least this long). */
  maxLength: number;
  /** Quote a string even at the top level (error reports: `Uncaught 'text'`). */
  quoteStrings: boolean;
}

const DEFAULTS: InspectOptions = { depth: 2, maxLength: 16 * 1024, quoteStrings: false };
const MAX_ITEMS = 100;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

interface State {
  readonly depth: number;
  readonly maxLength: number;
  /** Objects on the current path, for cycle detection. */
  readonly seen: object[];
  /** Characters produced so far (approximately): formatting stops past maxLength. */
  length: number;
}

export function inspect(value: unknown, options: Partial<InspectOptions> = {}): string {
  const state: State = {
    depth: options.depth ?? DEFAULTS.depth,
    maxLength: options.maxLength ?? DEFAULTS.maxLength,
    seen: [],
    length: 0,
  };
  return formatValue(state, value, 0, options.quoteStrings ?? DEFAULTS.quoteStrings);
}

function formatValue(state: State, value: unknown, level: number, nested: boolean): string {
  const out = formatAny(state, value, level, nested);
  state.length += out.length;
  return out;
}

function formatAny(state: State, value: unknown, level: number, nested: boolean): string {
  switch (typeof value) {
    case 'string':
      return nested ? quote(state, value) : value;
    case 'number':
      return ObjectIs(value, -0) ? '-0' : `${value}`;
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return `${value}`;
    case 'symbol':
      return SymbolPrototypeToString(value);
    case 'function':
      return formatFunction(state, value, level);
  }
  if (value === null) return 'null';
  return formatObject(state, value as object, level);
}

const ESCAPES: Record<number, string> = ObjectCreate(null);
ESCAPES[8] = '\\b';
ESCAPES[9] = '\\t';
ESCAPES[10] = '\\n';
ESCAPES[11] = '\\v';
ESCAPES[12] = '\\f';
ESCAPES[13] = '\\r';
ESCAPES[92] = '\\\\';

/** A string literal as Node prints it: single quotes unless the string contains one. */
function quote(state: State, s: string): string {
  // Never escape more than the output can still take.
  const limit = state.maxLength - state.length;
  const input = s.length > limit ? StringPrototypeSlice(s, 0, limit > 0 ? limit : 0) : s;
  const q = !StringPrototypeIncludes(input, "'") ? "'" : !StringPrototypeIncludes(input, '"') ? '"' : '`';
  const qCode = StringPrototypeCharCodeAt(q, 0);
  let out = q;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 0x20 && c !== 0x7f && c !== 92 && c !== qCode) continue;
    out += StringPrototypeSlice(input, start, i);
    start = i + 1;
    if (c === qCode) out += `\\${q}`;
    else out += ESCAPES[c] ?? `\\x${StringPrototypePadStart(NumberPrototypeToString(c, 16), 2, '0')}`;
  }
  out += StringPrototypeSlice(input, start) + q;
  return input === s ? out : `${out}... ${s.length - input.length} more characters`;
}

function formatKey(state: State, key: string | symbol): string {
  if (typeof key === 'symbol') return `[${SymbolPrototypeToString(key)}]`;
  return RegExpPrototypeExec(IDENTIFIER, key) !== null ? key : quote(state, key);
}

function functionName(fn: Function): string {
  const descriptor = ReflectGetOwnPropertyDescriptor(fn, 'name');
  return descriptor !== undefined && typeof descriptor.value === 'string' ? descriptor.value : '';
}

function formatFunction(state: State, fn: Function, level: number): string {
  const name = functionName(fn);
  let source = '';
  try {
    source = FunctionPrototypeToString(fn);
  } catch {
    // Proxies of functions and the like.
  }
  const kind = StringPrototypeStartsWith(source, 'class') ? 'class' : 'Function';
  const base = kind === 'class' ? `[class ${name || '(anonymous)'}]` : `[Function: ${name || '(anonymous)'}]`;
  const keys = ownEnumerableKeys(fn);
  if (keys.length === 0) return base;
  return `${base} ${formatEntries(state, fn, keys, level, '{', '}')}`;
}

function ownEnumerableKeys(object: object): (string | symbol)[] {
  const keys = ReflectOwnKeys(object);
  const result: (string | symbol)[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (ObjectPrototypePropertyIsEnumerable(object, keys[i]!)) result[result.length] = keys[i]!;
  }
  return result;
}

/** An own property's value; accessors are named, never run. */
function formatPropertyValue(state: State, object: object, key: string | symbol, level: number): string {
  const descriptor = ReflectGetOwnPropertyDescriptor(object, key);
  if (descriptor === undefined) return 'undefined';
  if ('value' in descriptor) return formatValue(state, descriptor.value, level + 1, true);
  if (descriptor.get !== undefined) return descriptor.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  return descriptor.set !== undefined ? '[Setter]' : 'undefined';
}

function formatProperty(state: State, object: object, key: string | symbol, level: number): string {
  return `${formatKey(state, key)}: ${formatPropertyValue(state, object, key, level)}`;
}

function formatEntries(
  state: State,
  object: object,
  keys: (string | symbol)[],
  level: number,
  open: string,
  close: string,
  prefix: string[] = [],
): string {
  const parts = prefix;
  for (let i = 0; i < keys.length; i++) {
    if (state.length > state.maxLength) {
      parts[parts.length] = '...';
      break;
    }
    parts[parts.length] = formatProperty(state, object, keys[i]!, level);
  }
  if (parts.length === 0) return `${open}${close}`;
  return `${open} ${ArrayPrototypeJoin(parts, ', ')} ${close}`;
}

function constructorName(object: object): string | null {
  let proto: object | null = object;
  while (proto !== null) {
    const descriptor = ReflectGetOwnPropertyDescriptor(proto, 'constructor');
    if (descriptor !== undefined && typeof descriptor.value === 'function') {
      const name = functionName(descriptor.value);
      if (name !== '') return name;
    }
    proto = ObjectGetPrototypeOf(proto);
  }
  return null;
}

function prefixFor(object: object, fallback: string, size?: number): string {
  const name = constructorName(object);
  let tag: unknown;
  try {
    tag = object[SymbolToStringTag as keyof object];
  } catch {
    tag = undefined; // a throwing getter
  }
  let prefix = name === null ? `[${fallback}: null prototype]` : name;
  if (typeof tag === 'string' && tag !== '' && tag !== name) prefix += ` [${tag}]`;
  if (size !== undefined) prefix += `(${size})`;
  return prefix;
}

function formatObject(state: State, object: object, level: number): string {
  const seen = state.seen;
  for (let i = 0; i < seen.length; i++) if (seen[i] === object) return '[Circular]';
  if (level > state.depth) {
    return ArrayIsArray(object) ? '[Array]' : `[${constructorName(object) ?? 'Object'}]`;
  }
  seen[seen.length] = object;
  try {
    return formatObjectBody(state, object, level);
  } finally {
    seen.length--;
  }
}

function formatObjectBody(state: State, object: object, level: number): string {
  if (ArrayIsArray(object)) return formatArray(state, object, level);
  if (isError(object)) return formatError(state, object, level);

  const inspector = findInspector(object);
  if (inspector !== undefined) {
    const plain = inspector(object);
    return `${prefixFor(object, 'Object')} ${formatEntries(state, plain, ownEnumerableKeys(plain), level - 1, '{', '}')}`;
  }

  const typedTag = TypedArrayPrototypeGetSymbolToStringTag(object);
  if (typedTag !== undefined) {
    const view = object as Uint8Array;
    const length = TypedArrayPrototypeGetLength(view);
    const items: string[] = [];
    for (let i = 0; i < length && i < MAX_ITEMS; i++) items[i] = formatValue(state, view[i], level + 1, true);
    if (length > MAX_ITEMS) items[items.length] = `... ${length - MAX_ITEMS} more items`;
    return `${typedTag}(${length}) ${items.length === 0 ? '[]' : `[ ${ArrayPrototypeJoin(items, ', ')} ]`}`;
  }

  const brand = ObjectPrototypeToString(object);
  const keys = ownEnumerableKeys(object);
  try {
    switch (brand) {
      case '[object Date]': {
        const time = DatePrototypeGetTime(object as Date);
        return NumberIsNaN(time) ? 'Invalid Date' : DatePrototypeToISOString(object as Date);
      }
      case '[object RegExp]':
        return RegExpPrototypeToString(object as RegExp);
      case '[object Map]':
        return formatMap(state, object as Map<unknown, unknown>, level);
      case '[object Set]':
        return formatSet(state, object as Set<unknown>, level);
      case '[object ArrayBuffer]':
        return `ArrayBuffer { byteLength: ${ArrayBufferPrototypeGetByteLength(object as ArrayBuffer)} }`;
      case '[object Promise]':
        return 'Promise { <unknown> }';
      case '[object WeakMap]':
      case '[object WeakSet]':
        return `${prefixFor(object, 'Object')} { <items unknown> }`;
      case '[object Number]':
        return `[Number: ${formatAny(state, NumberPrototypeValueOf(object as unknown as number), level, true)}]`;
      case '[object String]':
        return `[String: ${quote(state, StringPrototypeValueOf(object as unknown as string))}]`;
      case '[object Boolean]':
        return `[Boolean: ${BooleanPrototypeValueOf(object as unknown as boolean)}]`;
      case '[object BigInt]':
        return `[BigInt: ${BigIntPrototypeValueOf(object as unknown as bigint)}n]`;
      case '[object Symbol]':
        return `[Symbol: ${SymbolPrototypeToString(SymbolPrototypeValueOf(object as unknown as symbol))}]`;
    }
  } catch {
    // A spoofed Symbol.toStringTag: the brand check threw, print it as an ordinary object.
  }
  const name = constructorName(object);
  const prefix = name === 'Object' ? '' : `${prefixFor(object, 'Object')} `;
  return `${prefix}${formatEntries(state, object, keys, level, '{', '}')}`;
}

function findInspector(object: object): ((value: object) => object) | undefined {
  let proto = ObjectGetPrototypeOf(object);
  while (proto !== null) {
    const inspector = WeakMapPrototypeGet(inspectors, proto);
    if (inspector !== undefined) {
      try {
        inspector(object);
      } catch {
        return undefined; // not a real instance (a tenant object inheriting the prototype)
      }
      return inspector;
    }
    proto = ObjectGetPrototypeOf(proto);
  }
  return undefined;
}

function formatArray(state: State, array: unknown[], level: number): string {
  const items: string[] = [];
  const length = array.length;
  let holes = 0;
  for (let i = 0; i < length && items.length < MAX_ITEMS; i++) {
    if (state.length > state.maxLength) break;
    const descriptor = ReflectGetOwnPropertyDescriptor(array, `${i}`);
    if (descriptor === undefined) {
      holes++;
      continue;
    }
    if (holes > 0) {
      items[items.length] = `<${holes} empty item${holes > 1 ? 's' : ''}>`;
      holes = 0;
    }
    items[items.length] = formatPropertyValue(state, array, `${i}`, level);
  }
  if (holes > 0) items[items.length] = `<${holes} empty item${holes > 1 ? 's' : ''}>`;
  const shown = items.length;
  if (length > shown && shown >= MAX_ITEMS) items[items.length] = `... ${length - shown} more items`;
  // Extra, non-index properties (e.g. a `groups` on a match result).
  const keys = ownEnumerableKeys(array);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (typeof key === 'string' && RegExpPrototypeExec(/^(?:0|[1-9]\d*)$/, key) !== null) continue;
    items[items.length] = formatProperty(state, array, key, level);
  }
  if (items.length === 0) return '[]';
  return `[ ${ArrayPrototypeJoin(items, ', ')} ]`;
}

function formatMap(state: State, map: Map<unknown, unknown>, level: number): string {
  const items: string[] = [];
  MapPrototypeForEach(map, (value, key) => {
    if (items.length >= MAX_ITEMS || state.length > state.maxLength) return;
    items[items.length] = `${formatValue(state, key, level + 1, true)} => ${formatValue(state, value, level + 1, true)}`;
  });
  const size = MapPrototypeGetSize(map);
  if (size > items.length) items[items.length] = `... ${size - items.length} more items`;
  return `${prefixFor(map, 'Map', size)} ${items.length === 0 ? '{}' : `{ ${ArrayPrototypeJoin(items, ', ')} }`}`;
}

function formatSet(state: State, set: Set<unknown>, level: number): string {
  const items: string[] = [];
  SetPrototypeForEach(set, (value) => {
    if (items.length >= MAX_ITEMS || state.length > state.maxLength) return;
    items[items.length] = formatValue(state, value, level + 1, true);
  });
  const size = SetPrototypeGetSize(set);
  if (size > items.length) items[items.length] = `... ${size - items.length} more items`;
  return `${prefixFor(set, 'Set', size)} ${items.length === 0 ? '{}' : `{ ${ArrayPrototypeJoin(items, ', ')} }`}`;
}

export function isError(value: unknown): value is Error {
  if (typeof value !== 'object' || value === null) return false;
  if (ObjectPrototypeToString(value) === '[object Error]') return true;
  // DOMException and other Error subclasses with their own toStringTag.
  let proto = ObjectGetPrototypeOf(value);
  while (proto !== null) {
    if (proto === ErrorCtor.prototype) return true;
    proto = ObjectGetPrototypeOf(proto);
  }
  return false;
}

/** The header line of an error: `Name: message`, read without running tenant getters twice. */
export function errorHeadline(error: Error): string {
  let name = 'Error';
  let message = '';
  try {
    name = `${error.name}`;
    message = `${error.message}`;
  } catch {
    // Hostile getters: keep the defaults.
  }
  return message === '' ? name : `${name}: ${message}`;
}

/** `error.message` as a string, '' if reading it throws. */
export function errorMessage(error: Error): string {
  try {
    return `${error.message}`;
  } catch {
    return '';
  }
}

/** `error.stack` if it is a string that names the error, else the headline. */
export function errorStack(error: Error): string {
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    stack = undefined;
  }
  const headline = errorHeadline(error);
  if (typeof stack !== 'string' || stack === '') return headline;
  // A stack captured before name/message changed still starts with the old headline: keep the frames.
  return StringPrototypeIncludes(stack, headline) ? stack : `${headline}\n${stackFrames(stack)}`;
}

function stackFrames(stack: string): string {
  const at = StringPrototypeIndexOf(stack, '\n    at ');
  return at === -1 ? '' : StringPrototypeSlice(stack, at + 1);
}

function formatError(state: State, error: Error, level: number): string {
  let out = errorStack(error);
  if (level > 0) out = `[${out}]`;
  const keys = ownEnumerableKeys(error);
  const extra: (string | symbol)[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key !== 'stack' && key !== 'message') extra[extra.length] = key;
  }
  // `cause` is not enumerable when set by the constructor; Node shows it anyway.
  const cause = ReflectGetOwnPropertyDescriptor(error, 'cause');
  if (cause !== undefined && 'value' in cause && !ObjectPrototypePropertyIsEnumerable(error, 'cause')) {
    extra[extra.length] = 'cause';
  }
  if (extra.length === 0) return out;
  return `${out} ${formatEntries(state, error, extra, level, '{', '}')}`;
}

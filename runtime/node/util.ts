/**
 * `node:util` for workers with the nodejs_compat flag: the parts libraries written for Node use
 * (promisify, callbackify, inherits, format, inspect, deprecate, types, isDeepStrictEqual). Built as
 * the `node-util` chunk (src/isolates/runtime-bundle.ts), loaded on first import, like an npm library:
 * it runs with the worker's own globals and is only ever called by the worker.
 */

/** The worker's globals this module uses (the runtime's own type library has no DOM). */
const workerGlobals = globalThis as unknown as {
  console: { warn(...data: unknown[]): void };
  TextEncoder: unknown;
  TextDecoder: unknown;
};
const later = (fn: () => void) => void Promise.resolve().then(fn);

const kCustomPromisify = Symbol.for('nodejs.util.promisify.custom');
const kCustomInspect = Symbol.for('nodejs.util.inspect.custom');

type Callback = (err: unknown, ...values: unknown[]) => void;
type AnyFunction = (...args: any[]) => any;

function promisify(original: AnyFunction): AnyFunction {
  if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
  const custom = (original as { [kCustomPromisify]?: unknown })[kCustomPromisify];
  if (custom !== undefined) {
    if (typeof custom !== 'function') throw new TypeError('The "util.promisify.custom" property must be of type function');
    return custom as AnyFunction;
  }
  function promisified(this: unknown, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err: unknown, ...values: unknown[]) => {
        if (err) reject(err);
        else resolve(values[0]);
      });
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  Object.defineProperty(promisified, kCustomPromisify, { value: promisified, configurable: true });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = kCustomPromisify;

function callbackify(original: AnyFunction): AnyFunction {
  if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
  return function callbackified(this: unknown, ...args: unknown[]): void {
    const callback = args.pop();
    if (typeof callback !== 'function') throw new TypeError('The last argument must be of type function');
    const done = callback as Callback;
    Promise.resolve(original.apply(this, args)).then(
      (value) => later(() => done(null, value)),
      (reason: unknown) => {
        const err = reason || Object.assign(new Error('Promise was rejected with a falsy value'), { reason });
        later(() => done(err));
      },
    );
  };
}

function inherits(ctor: AnyFunction, superCtor: AnyFunction): void {
  if (typeof ctor !== 'function') throw new TypeError('The "ctor" argument must be of type function');
  if (typeof superCtor !== 'function' || superCtor.prototype === undefined) throw new TypeError('The "superCtor" argument must be a function with a prototype');
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const deprecationsWarned = new Set<string>();

function deprecate<T extends AnyFunction>(fn: T, message: string, code?: string): T {
  if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function');
  let warned = false;
  return function deprecated(this: unknown, ...args: unknown[]) {
    if (!warned && !(code !== undefined && deprecationsWarned.has(code))) {
      warned = true;
      if (code !== undefined) deprecationsWarned.add(code);
      workerGlobals.console.warn(`DeprecationWarning: ${message}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  } as T;
}

// --- types ---

const toTag = (value: unknown) => Object.prototype.toString.call(value);
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get!;
const AsyncFunctionPrototype = Object.getPrototypeOf(async function () {}) as object;
const GeneratorFunctionPrototype = Object.getPrototypeOf(function* () {}) as object;
const AsyncGeneratorFunctionPrototype = Object.getPrototypeOf(async function* () {}) as object;

function typedArrayName(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? (typedArrayTag.call(value) as string | undefined) : undefined;
}
const isTypedArrayOf = (name: string) => (value: unknown) => typedArrayName(value) === name;

const types = {
  isAnyArrayBuffer: (value: unknown) => value instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer),
  isArrayBuffer: (value: unknown) => value instanceof ArrayBuffer,
  isArrayBufferView: (value: unknown) => ArrayBuffer.isView(value),
  isAsyncFunction: (value: unknown) => typeof value === 'function' && (Object.getPrototypeOf(value) === AsyncFunctionPrototype || Object.getPrototypeOf(value) === AsyncGeneratorFunctionPrototype),
  isGeneratorFunction: (value: unknown) => typeof value === 'function' && (Object.getPrototypeOf(value) === GeneratorFunctionPrototype || Object.getPrototypeOf(value) === AsyncGeneratorFunctionPrototype),
  isGeneratorObject: (value: unknown) => toTag(value) === '[object Generator]',
  isBooleanObject: (value: unknown) => typeof value === 'object' && value !== null && toTag(value) === '[object Boolean]',
  isNumberObject: (value: unknown) => typeof value === 'object' && value !== null && toTag(value) === '[object Number]',
  isStringObject: (value: unknown) => typeof value === 'object' && value !== null && toTag(value) === '[object String]',
  isSymbolObject: (value: unknown) => typeof value === 'object' && value !== null && toTag(value) === '[object Symbol]',
  isBoxedPrimitive: (value: unknown) => typeof value === 'object' && value !== null && /^\[object (Boolean|Number|String|Symbol|BigInt)\]$/.test(toTag(value)),
  isDataView: (value: unknown) => value instanceof DataView,
  isDate: (value: unknown) => value instanceof Date,
  isMap: (value: unknown) => value instanceof Map,
  isSet: (value: unknown) => value instanceof Set,
  isWeakMap: (value: unknown) => value instanceof WeakMap,
  isWeakSet: (value: unknown) => value instanceof WeakSet,
  isMapIterator: (value: unknown) => toTag(value) === '[object Map Iterator]',
  isSetIterator: (value: unknown) => toTag(value) === '[object Set Iterator]',
  isNativeError: (value: unknown) => value instanceof Error,
  isPromise: (value: unknown) => value instanceof Promise,
  isProxy: (_value: unknown) => false,
  isRegExp: (value: unknown) => value instanceof RegExp,
  isSharedArrayBuffer: (value: unknown) => typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer,
  isTypedArray: (value: unknown) => typedArrayName(value) !== undefined,
  isUint8Array: isTypedArrayOf('Uint8Array'),
  isUint8ClampedArray: isTypedArrayOf('Uint8ClampedArray'),
  isUint16Array: isTypedArrayOf('Uint16Array'),
  isUint32Array: isTypedArrayOf('Uint32Array'),
  isInt8Array: isTypedArrayOf('Int8Array'),
  isInt16Array: isTypedArrayOf('Int16Array'),
  isInt32Array: isTypedArrayOf('Int32Array'),
  isFloat32Array: isTypedArrayOf('Float32Array'),
  isFloat64Array: isTypedArrayOf('Float64Array'),
  isBigInt64Array: isTypedArrayOf('BigInt64Array'),
  isBigUint64Array: isTypedArrayOf('BigUint64Array'),
};

// --- inspect and format ---

interface InspectOptions {
  depth: number;
  seen: unknown[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function inspect(value: unknown, options?: { depth?: number | null }): string {
  const depth = options?.depth === null ? Infinity : (options?.depth ?? 2);
  return formatValue(value, { depth, seen: [] }, 0);
}
inspect.custom = kCustomInspect;

function formatKey(key: PropertyKey): string {
  if (typeof key === 'symbol') return `[${key.toString()}]`;
  return IDENTIFIER.test(key as string) ? (key as string) : JSON.stringify(key);
}

function formatPrimitive(value: unknown, quoted: boolean): string {
  switch (typeof value) {
    case 'string':
      return quoted ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'` : value;
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'symbol':
      return value.toString();
    default:
      return String(value);
  }
}

function formatValue(value: unknown, options: InspectOptions, level: number): string {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(value, level > 0);
  if (value === null) return 'null';
  const custom = (value as { [kCustomInspect]?: unknown })[kCustomInspect];
  if (typeof custom === 'function' && custom !== inspect) {
    const result = custom.call(value, options.depth - level, { depth: options.depth - level }, inspect);
    if (result !== value) return typeof result === 'string' ? result : formatValue(result, options, level);
  }
  if (options.seen.includes(value)) return '[Circular *1]';
  if (typeof value === 'function') {
    const name = value.name ? `: ${value.name}` : ' (anonymous)';
    return `[${/^class\s/.test(Function.prototype.toString.call(value)) ? 'class' : 'Function'}${name}]`;
  }
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof RegExp) return value.toString();
  if (value instanceof Promise) return 'Promise { <unknown> }';
  if (value instanceof WeakMap || value instanceof WeakSet) return `${value instanceof WeakMap ? 'WeakMap' : 'WeakSet'} { <items unknown> }`;
  if (level > options.depth) return Array.isArray(value) ? '[Array]' : `[${constructorName(value) ?? 'Object'}]`;

  options.seen.push(value);
  try {
    const parts: string[] = [];
    let prefix = '';
    let open = '{';
    let close = '}';
    if (Array.isArray(value)) {
      open = '[';
      close = ']';
      for (let i = 0; i < value.length && i < 100; i++) parts.push(i in value ? formatValue(value[i], options, level + 1) : '<empty item>');
      if (value.length > 100) parts.push(`... ${value.length - 100} more items`);
    } else if (value instanceof Map) {
      prefix = `Map(${value.size}) `;
      for (const [k, v] of value) parts.push(`${formatValue(k, options, level + 1)} => ${formatValue(v, options, level + 1)}`);
    } else if (value instanceof Set) {
      prefix = `Set(${value.size}) `;
      for (const v of value) parts.push(formatValue(v, options, level + 1));
    } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const array = value as unknown as ArrayLike<number | bigint>;
      prefix = `${typedArrayName(value) ?? 'TypedArray'}(${array.length}) `;
      open = '[';
      close = ']';
      for (let i = 0; i < array.length && i < 100; i++) parts.push(formatPrimitive(array[i], true));
      if (array.length > 100) parts.push(`... ${array.length - 100} more items`);
    } else if (value instanceof ArrayBuffer) {
      prefix = 'ArrayBuffer ';
      parts.push(`byteLength: ${value.byteLength}`);
    } else {
      const name = constructorName(value);
      if (name === null) prefix = '[Object: null prototype] ';
      else if (name !== 'Object') prefix = `${name} `;
    }
    if (!Array.isArray(value) && !(ArrayBuffer.isView(value))) {
      for (const key of Reflect.ownKeys(value)) {
        if (!Object.prototype.propertyIsEnumerable.call(value, key)) continue;
        parts.push(`${formatKey(key)}: ${formatValue((value as Record<PropertyKey, unknown>)[key], options, level + 1)}`);
      }
    }
    if (parts.length === 0) return `${prefix}${open}${close}`;
    const oneLine = `${prefix}${open} ${parts.join(', ')} ${close}`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    const indent = '  '.repeat(level + 1);
    return `${prefix}${open}\n${indent}${parts.join(`,\n${indent}`)}\n${'  '.repeat(level)}${close}`;
  } finally {
    options.seen.pop();
  }
}

function constructorName(value: object): string | null {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  if (proto === null) return null;
  const name = proto.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}

function format(first?: unknown, ...rest: unknown[]): string {
  if (typeof first !== 'string') return [first, ...rest].map((v) => (typeof v === 'string' ? v : inspect(v))).join(' ');
  let index = 0;
  let out = first.replace(/%([sdifjoOc%])/g, (match, spec: string) => {
    if (spec === '%') return '%';
    if (index >= rest.length) return match;
    const arg = rest[index++];
    switch (spec) {
      case 's':
        return typeof arg === 'string' ? arg : typeof arg === 'bigint' ? `${arg}n` : typeof arg === 'object' && arg !== null ? inspect(arg, { depth: 0 }) : String(arg);
      case 'd':
        return typeof arg === 'bigint' ? `${arg}n` : typeof arg === 'symbol' ? 'NaN' : String(Number(arg));
      case 'i':
        return typeof arg === 'bigint' ? `${arg}n` : typeof arg === 'symbol' ? 'NaN' : String(Number.parseInt(String(arg), 10));
      case 'f':
        return typeof arg === 'symbol' ? 'NaN' : String(Number.parseFloat(String(arg)));
      case 'j':
        try {
          return JSON.stringify(arg);
        } catch {
          return '[Circular]';
        }
      case 'o':
      case 'O':
        return inspect(arg, { depth: spec === 'o' ? 4 : 2 });
      default: // %c: CSS, ignored
        return '';
    }
  });
  for (; index < rest.length; index++) {
    const arg = rest[index];
    out += ` ${typeof arg === 'string' ? arg : inspect(arg)}`;
  }
  return out;
}

// --- isDeepStrictEqual ---

function isDeepStrictEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (toTag(a) !== toTag(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b) && a.lastIndex === (b as RegExp).lastIndex;
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const bv = b as ArrayBufferView;
    const y = new Uint8Array(bv.buffer, bv.byteOffset, bv.byteLength);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  if (a instanceof Map) {
    const bm = b as Map<unknown, unknown>;
    if (a.size !== bm.size) return false;
    for (const [k, v] of a) if (!bm.has(k) || !isDeepStrictEqual(v, bm.get(k), seen)) return false;
  }
  if (a instanceof Set) {
    const bs = b as Set<unknown>;
    if (a.size !== bs.size) return false;
    for (const v of a) if (!bs.has(v)) return false;
  }
  const keysA = Reflect.ownKeys(a).filter((k) => Object.prototype.propertyIsEnumerable.call(a, k));
  const keysB = Reflect.ownKeys(b).filter((k) => Object.prototype.propertyIsEnumerable.call(b, k));
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (!isDeepStrictEqual((a as Record<PropertyKey, unknown>)[key], (b as Record<PropertyKey, unknown>)[key], seen)) return false;
  }
  return true;
}

/** The module's exports (a plain object: see CHUNKS in runtime-bundle.ts). */
export const util = {
  promisify,
  callbackify,
  inherits,
  deprecate,
  format,
  inspect,
  isDeepStrictEqual,
  types,
  isArray: Array.isArray,
  TextEncoder: workerGlobals.TextEncoder,
  TextDecoder: workerGlobals.TextDecoder,
};

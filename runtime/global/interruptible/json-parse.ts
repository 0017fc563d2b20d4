/**
 * JSON.parse for texts over HUGE characters. V8 parses a text in one call that checks neither for
 * interrupts nor for termination: 14 MB of objects held the thread 500 ms, and a request body of up to
 * 32 MiB reaches it through `request.json()`, sent by anyone who can reach the worker.
 *
 * Here a loop scans the text's arrays and objects for their elements and members. Runs of them that fit
 * in HUGE characters go to the builtin together (as `[…]` or `{…}`), and an element longer than that is
 * parsed the same way, one level down. So each builtin call sees at most ~HUGE characters (~10 ms) and
 * the CPU limit stops the loop between calls. The pieces are joined as JSON.parse would build them:
 * arrays by the builtin concat (or one element at a time when a tenant changed what concat would
 * consult), objects by CreateDataProperty in text order.
 *
 * Texts up to HUGE, and any text with a reviver (V8 gives the reviver each primitive's source text, which
 * only its own parse knows), keep the builtin. A syntax error says where its piece starts.
 */
import {
  ArrayCtor,
  CONFIGURABLE,
  defineValue,
  ENUMERABLE,
  ObjectGetPrototypeOf,
  ObjectPrototype,
  ReflectApply,
  ReflectGetOwnPropertyDescriptor,
  ReflectOwnKeys,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  SymbolIsConcatSpreadable,
  SymbolSpecies,
  SyntaxErrorCtor,
  WRITABLE,
} from '../../primordials.ts';
import { HUGE } from './huge.ts';
import type { Builtin } from './builtin.ts';

const builtinParse = JSON.parse as Builtin;
const ArrayPrototype = ArrayCtor.prototype;
const builtinConcat = ArrayPrototype.concat as Builtin;
const speciesGetter = ReflectGetOwnPropertyDescriptor(ArrayCtor, SymbolSpecies)?.get;

/** Nesting of long containers followed one level at a time; deeper, the builtin takes the rest. */
const MAX_DEPTH = 1000;
/**
 * Nesting a look-ahead follows before it calls the element long: without a bound, each level of a deeply
 * nested text would scan HUGE characters again (4.3 s for 60,000 nested objects).
 */
const LOOKAHEAD_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** JSON.parse (method syntax: like the builtin, not a constructor). */
export const parse = {
  parse(text: unknown, reviver?: unknown): unknown {
    const source = `${text as string}`;
    if (source.length <= HUGE || typeof reviver === 'function') return ReflectApply(builtinParse, undefined, [source, reviver]);
    return new LongJson(source).root();
  },
}.parse;

class LongJson {
  readonly text: string;
  readonly length: number;

  constructor(text: string) {
    this.text = text;
    this.length = text.length;
  }

  root(): unknown {
    const [value, end] = this.value(this.skipSpace(0), 0);
    if (this.skipSpace(end) !== this.length) this.fail(end);
    return value;
  }

  /** The value starting at `at` (not whitespace), and where it ends. */
  value(at: number, depth: number): [unknown, number] {
    const c = this.code(at);
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      const limit = depth >= MAX_DEPTH ? this.length : at + HUGE;
      const end = this.containerEnd(at, limit);
      if (end !== -1) return [this.builtin(at, end, '', ''), end];
      return c === OPEN_ARRAY ? this.array(at, depth + 1) : this.object(at, depth + 1);
    }
    const end = this.primitiveEnd(at);
    return [this.builtin(at, end, '', ''), end];
  }

  array(open: number, depth: number): [unknown[], number] {
    const parts: unknown[][] = [];
    let at = this.skipSpace(open + 1);
    if (this.code(at) === CLOSE_ARRAY) return [[], at + 1];
    for (;;) {
      // A run of elements that each end within HUGE characters of the run's start.
      const runStart = at;
      let runEnd = -1;
      let closed = -1;
      for (;;) {
        const end = this.elementEnd(at, runStart + HUGE);
        if (end === -1) break;
        runEnd = end;
        const next = this.next(end, CLOSE_ARRAY);
        if (next < 0) {
          closed = ~next;
          break;
        }
        at = next;
      }
      if (runEnd !== -1) parts[parts.length] = this.builtin(runStart, runEnd, '[', ']') as unknown[];
      if (closed !== -1) return [joinArrays(parts), closed + 1];
      // A long element: one level down.
      const [element, end] = this.value(at, depth);
      parts[parts.length] = [element];
      const next = this.next(end, CLOSE_ARRAY);
      if (next < 0) return [joinArrays(parts), ~next + 1];
      at = next;
    }
  }

  object(open: number, depth: number): [object, number] {
    let result: Record<string, unknown> | null = null;
    const add = (part: Record<string, unknown>) => {
      if (result === null) {
        result = part;
        return;
      }
      // An assignment is much cheaper than a definition (joining a 60,000-member object took 38-51 ms of
      // its 78-110 ms as definitions), and the same when nothing on Object.prototype takes it over.
      const set = setIsDefine();
      const keys = ReflectOwnKeys(part) as string[];
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (set && key !== '__proto__') result[key] = part[key];
        else defineData(result, key, part[key]);
      }
    };
    let at = this.skipSpace(open + 1);
    if (this.code(at) === CLOSE_OBJECT) return [{}, at + 1];
    for (;;) {
      const runStart = at;
      let runEnd = -1;
      let closed = -1;
      let valueAt = -1;
      for (;;) {
        // A member: "key" : value.
        if (this.code(at) !== QUOTE) this.fail(at);
        const keyEnd = this.stringEnd(at);
        const colon = this.skipSpace(keyEnd);
        if (this.code(colon) !== COLON) this.fail(colon);
        valueAt = this.skipSpace(colon + 1);
        const end = this.elementEnd(valueAt, runStart + HUGE);
        if (end === -1) break;
        runEnd = end;
        const next = this.next(end, CLOSE_OBJECT);
        if (next < 0) {
          closed = ~next;
          break;
        }
        at = next;
      }
      if (runEnd !== -1) add(this.builtin(runStart, runEnd, '{', '}') as Record<string, unknown>);
      if (closed !== -1) return [result ?? {}, closed + 1];
      // A member with a long value: its key, then the value one level down.
      const key = this.builtin(at, this.stringEnd(at), '', '') as string;
      const [value, end] = this.value(valueAt, depth);
      if (result === null) result = {};
      defineData(result, key, value);
      const next = this.next(end, CLOSE_OBJECT);
      if (next < 0) return [result, ~next + 1];
      at = next;
    }
  }

  /** After an element that ends at `end`: where the next one starts, or ~i when the container closes at i. */
  next(end: number, close: number): number {
    const at = this.skipSpace(end);
    const c = this.code(at);
    if (c === close) return ~at;
    if (c !== COMMA) this.fail(at);
    return this.skipSpace(at + 1);
  }

  /** Where the element starting at `at` ends, or -1 when it does not end before `limit`. */
  elementEnd(at: number, limit: number): number {
    const c = this.code(at);
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) return this.containerEnd(at, limit);
    const end = this.primitiveEnd(at);
    return end <= limit ? end : -1;
  }

  /**
   * The end of the array or object opening at `at`, or -1 when it does not close before `limit` or
   * nests deeper than LOOKAHEAD_DEPTH (unless the limit is the end of the text).
   */
  containerEnd(at: number, limit: number): number {
    const { text } = this;
    const whole = limit >= this.length;
    const stop = whole ? this.length : limit;
    let depth = 0;
    for (let i = at; i < stop; i++) {
      const c = StringPrototypeCharCodeAt(text, i);
      if (c === QUOTE) i = this.stringEnd(i) - 1;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > LOOKAHEAD_DEPTH && !whole) return -1;
      } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && --depth === 0) return i + 1;
    }
    if (whole) this.fail(this.length);
    return -1;
  }

  /** The end of a string, number or literal starting at `at`; the builtin checks what is inside. */
  primitiveEnd(at: number): number {
    const c = this.code(at);
    if (c === QUOTE) return this.stringEnd(at);
    // Numbers and true/false/null: [-+.0-9A-Za-z] up to the next delimiter.
    const { text } = this;
    let i = at;
    for (; i < this.length; i++) {
      const d = StringPrototypeCharCodeAt(text, i);
      if (!((d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x7a) || (d >= 0x41 && d <= 0x5a) || d === 0x2d || d === 0x2b || d === 0x2e)) break;
    }
    if (i === at) this.fail(at);
    return i;
  }

  /** The index after the closing quote of the string that opens at `at`. */
  stringEnd(at: number): number {
    const { text } = this;
    let quote = StringPrototypeIndexOf(text, '"', at + 1);
    for (;;) {
      if (quote === -1) this.fail(this.length);
      let backslashes = 0;
      while (StringPrototypeCharCodeAt(text, quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote + 1;
      quote = StringPrototypeIndexOf(text, '"', quote + 1);
    }
  }

  skipSpace(at: number): number {
    const { text } = this;
    for (; at < this.length; at++) {
      const c = StringPrototypeCharCodeAt(text, at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    return at;
  }

  code(at: number): number {
    return at < this.length ? StringPrototypeCharCodeAt(this.text, at) : -1;
  }

  /** The builtin on text[from, to), wrapped in `open` and `close`. */
  builtin(from: number, to: number, open: string, close: string): unknown {
    try {
      return builtinParse(`${open}${StringPrototypeSlice(this.text, from, to)}${close}`);
    } catch (err) {
      if (err !== null && typeof err === 'object' && ObjectGetPrototypeOf(err) === SyntaxErrorCtor.prototype) this.fail(from);
      throw err;
    }
  }

  fail(at: number): never {
    throw new SyntaxErrorCtor(at >= this.length ? 'Unexpected end of JSON input' : `Unexpected token in JSON at or after position ${at}`);
  }
}

/**
 * Whether assigning a key other than `__proto__` to a fresh object that JSON.parse made creates an own
 * data property, as CreateDataProperty does: so unless a tenant put an accessor or a read-only property
 * on Object.prototype (an inherited setter would run, a read-only one would refuse).
 */
function setIsDefine(): boolean {
  const keys = ReflectOwnKeys(ObjectPrototype);
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === '__proto__') continue;
    const descriptor = ReflectGetOwnPropertyDescriptor(ObjectPrototype, keys[i]!)!;
    if (descriptor.writable !== true) return false;
  }
  return true;
}

/** CreateDataProperty, which a setter on Object.prototype cannot intercept (as in JSON.parse). */
function defineData(target: Record<string, unknown>, key: string, value: unknown): void {
  defineValue(target, key, value, WRITABLE | ENUMERABLE | CONFIGURABLE);
}

/** The parts as one array, as JSON.parse would make it. */
function joinArrays(parts: unknown[][]): unknown[] {
  if (parts.length === 1) return parts[0]!;
  // The builtin concat copies fast arrays at once; it is what JSON.parse would build unless a tenant
  // changed what concat consults (the species, the constructor, isConcatSpreadable).
  if (concatIsPlain()) return ReflectApply(builtinConcat, [], parts) as unknown[];
  const joined: unknown[] = [];
  let n = 0;
  for (const part of parts) for (let i = 0; i < part.length; i++) defineData(joined as unknown as Record<string, unknown>, `${n++}`, part[i]);
  return joined;
}

function concatIsPlain(): boolean {
  return (
    ReflectGetOwnPropertyDescriptor(ArrayPrototype, 'constructor')?.value === ArrayCtor &&
    ReflectGetOwnPropertyDescriptor(ArrayCtor, SymbolSpecies)?.get === speciesGetter &&
    ReflectGetOwnPropertyDescriptor(ArrayPrototype, SymbolIsConcatSpreadable) === undefined &&
    ReflectGetOwnPropertyDescriptor(ObjectPrototype, SymbolIsConcatSpreadable) === undefined
  );
}

/**
 * Headers (https://fetch.spec.whatwg.org/#headers-class).
 *
 * The header list is stored in the bridge's own format, a flat array [name0, value0, name1, …] with
 * lower-case names, so headers arriving from the host are adopted without copying and a Response's
 * headers go back to the host as they are. Lookups scan the list: real header lists are short.
 * Iteration uses the "sort and combine" view, computed once per change.
 *
 * Guards: "immutable" (Response.error(), Response.redirect(), the request a worker receives) and
 * "none". The "request"/"response" guards of browsers filter forbidden header names; server runtimes
 * (undici, workerd) do not, and neither does this one.
 */
import type { HeaderList } from '../host.d.ts';
import {
  ArrayPrototypeSort,
  ArrayPrototypeSplice,
  IteratorPrototype,
  ObjectCreate,
  ObjectSetPrototypeOf,
  ReflectApply,
  SymbolIterator,
  uncurryThis,
} from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { forEachInitPair } from '../global/init-pairs.ts';
import { registerInspector } from '../global/inspect.ts';
import { toHeaderName, toHeaderValue } from './header-values.ts';

export type HeadersGuard = 'none' | 'immutable';
type IterationKind = 'key' | 'value' | 'key+value';

let listOf: (headers: Headers) => HeaderList;
let adopt: (headers: Headers, list: HeaderList, guard: HeadersGuard) => void;
let isHeaders: (value: unknown) => value is Headers;
let sortedOf: (headers: Headers) => HeaderList;
let appendTo: (headers: Headers, name: unknown, value: unknown) => void;
let guardOf: (headers: Headers) => HeadersGuard;

export class Headers {
  #list: HeaderList = [];
  #guard: HeadersGuard = 'none';
  /** "sort and combine" result as flat pairs; null when the list changed since. */
  #sorted: HeaderList | null = null;

  // https://fetch.spec.whatwg.org/#dom-headers
  constructor(init?: unknown) {
    if (init !== undefined) fillHeaders(this, init);
  }

  // https://fetch.spec.whatwg.org/#dom-headers-append
  append(name: unknown, value: unknown): void {
    const lower = toHeaderName(name);
    const normalized = toHeaderValue(value, lower);
    this.#checkMutable();
    const list = this.#list;
    list[list.length] = lower;
    list[list.length] = normalized;
    this.#sorted = null;
  }

  // https://fetch.spec.whatwg.org/#dom-headers-delete
  delete(name: unknown): void {
    const lower = toHeaderName(name);
    this.#checkMutable();
    const list = this.#list;
    for (let i = list.length - 2; i >= 0; i -= 2) {
      if (list[i] === lower) ArrayPrototypeSplice(list, i, 2);
    }
    this.#sorted = null;
  }

  // https://fetch.spec.whatwg.org/#dom-headers-get
  get(name: unknown): string | null {
    return getHeader(this.#list, toHeaderName(name));
  }

  // https://fetch.spec.whatwg.org/#dom-headers-getsetcookie
  getSetCookie(): string[] {
    const list = this.#list;
    const values: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === 'set-cookie') values[values.length] = list[i + 1]!;
    }
    return values;
  }

  /** Workers' extension, for Set-Cookie only (as there): the values one by one. */
  getAll(name: unknown): string[] {
    if (toHeaderName(name) !== 'set-cookie') throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
    return this.getSetCookie();
  }

  // https://fetch.spec.whatwg.org/#dom-headers-has
  has(name: unknown): boolean {
    const lower = toHeaderName(name);
    const list = this.#list;
    for (let i = 0; i < list.length; i += 2) if (list[i] === lower) return true;
    return false;
  }

  // https://fetch.spec.whatwg.org/#dom-headers-set
  set(name: unknown, value: unknown): void {
    const lower = toHeaderName(name);
    const normalized = toHeaderValue(value, lower);
    this.#checkMutable();
    // "If list contains name, set the value of the first such header to value and remove the others."
    const list = this.#list;
    let found = -1;
    for (let i = list.length - 2; i >= 0; i -= 2) {
      if (list[i] !== lower) continue;
      if (found !== -1) ArrayPrototypeSplice(list, found, 2);
      found = i;
    }
    if (found === -1) {
      list[list.length] = lower;
      list[list.length] = normalized;
    } else {
      list[found + 1] = normalized;
    }
    this.#sorted = null;
  }

  forEach(callback: unknown, thisArg?: unknown): void {
    if (typeof callback !== 'function') {
      throw new TypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    }
    // Web IDL pair iteration: the pairs are looked up again on each step, so changes show.
    for (let i = 0; ; i += 2) {
      const pairs = this.#sortAndCombine();
      if (i >= pairs.length) break;
      ReflectApply(callback, thisArg, [pairs[i + 1], pairs[i], this]);
    }
  }

  keys(): HeadersIterator {
    return createIterator(this, 'key');
  }

  values(): HeadersIterator {
    return createIterator(this, 'value');
  }

  entries(): HeadersIterator {
    return createIterator(this, 'key+value');
  }

  [SymbolIterator](): HeadersIterator {
    return createIterator(this, 'key+value');
  }

  #checkMutable(): void {
    if (this.#guard === 'immutable') throw new TypeError("Can't modify immutable headers.");
  }

  // https://fetch.spec.whatwg.org/#concept-header-list-sort-and-combine
  #sortAndCombine(): HeaderList {
    if (this.#sorted !== null) return this.#sorted;
    const list = this.#list;
    // 1-2. The names, lower-cased (already) and sorted, without duplicates.
    const names: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i]!;
      let seen = false;
      for (let j = 0; j < names.length; j++) {
        if (names[j] === name) {
          seen = true;
          break;
        }
      }
      if (!seen) names[names.length] = name;
    }
    ArrayPrototypeSort(names, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // 3. `set-cookie` gives one pair per value; any other name one pair with the combined value.
    const sorted: HeaderList = [];
    for (let j = 0; j < names.length; j++) {
      const name = names[j]!;
      if (name === 'set-cookie') {
        for (let i = 0; i < list.length; i += 2) {
          if (list[i] !== name) continue;
          sorted[sorted.length] = name;
          sorted[sorted.length] = list[i + 1]!;
        }
      } else {
        sorted[sorted.length] = name;
        sorted[sorted.length] = getHeader(list, name)!;
      }
    }
    return (this.#sorted = sorted);
  }

  static {
    listOf = (headers) => headers.#list;
    adopt = (headers, list, guard) => {
      headers.#list = list;
      headers.#guard = guard;
      headers.#sorted = null;
    };
    isHeaders = (value): value is Headers => typeof value === 'object' && value !== null && #list in value;
    sortedOf = (headers) => headers.#sortAndCombine();
    guardOf = (headers) => headers.#guard;
    // The "append" algorithm, not the (replaceable) method.
    appendTo = uncurryThis(Headers.prototype.append);
  }
}
nameClass(Headers, 'Headers');

// https://fetch.spec.whatwg.org/#concept-header-list-get: values of `name`, combined with ", ".
export function getHeader(list: HeaderList, lower: string): string | null {
  let value: string | null = null;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== lower) continue;
    value = value === null ? list[i + 1]! : `${value}, ${list[i + 1]!}`;
  }
  return value;
}

// https://fetch.spec.whatwg.org/#concept-headers-fill
export function fillHeaders(headers: Headers, init: unknown): void {
  if (init === null || init === undefined) return; // an empty record (Web IDL union conversion)
  if (typeof init !== 'object' && typeof init !== 'function') {
    throw new TypeError(
      "Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.",
    );
  }
  if (isHeaders(init)) {
    // The same pairs its iterator would give, without running tenant-replaceable iterators.
    const list = listOf(init);
    for (let i = 0; i < list.length; i += 2) appendTo(headers, list[i], list[i + 1]);
    return;
  }
  forEachInitPair(init, "Failed to construct 'Headers'", 'header', (name, value) => appendTo(headers, name, value));
}

/** A Headers object over `list` (adopted, not copied) with `guard`. */
export function createHeaders(list: HeaderList, guard: HeadersGuard): Headers {
  const headers = new Headers();
  adopt(headers, list, guard);
  return headers;
}

export function headerListOf(headers: Headers): HeaderList {
  return listOf(headers);
}

/** A copy of `headers`, guard included (Request/Response clone()). */
export function cloneHeaders(headers: Headers): Headers {
  const list = listOf(headers);
  const copy: HeaderList = [];
  for (let i = 0; i < list.length; i++) copy[i] = list[i]!;
  return createHeaders(copy, guardOf(headers));
}

/** The "append" algorithm (validation and guard included), whatever the worker did to the method. */
export function appendHeader(headers: Headers, name: string, value: string): void {
  appendTo(headers, name, value);
}

// https://webidl.spec.whatwg.org/#es-iterator-prototype-object: iterators over the live pairs.
class HeadersIterator {
  #headers: Headers;
  #kind: IterationKind;
  #index = 0;

  constructor(headers: Headers, kind: IterationKind) {
    this.#headers = headers;
    this.#kind = kind;
  }

  next(): IteratorResult<string | [string, string], undefined> {
    const pairs = sortedOf(this.#headers);
    const index = this.#index;
    if (index >= pairs.length) return { value: undefined, done: true };
    this.#index = index + 2;
    const name = pairs[index]!;
    const value = pairs[index + 1]!;
    const kind = this.#kind;
    return { value: kind === 'key' ? name : kind === 'value' ? value : [name, value], done: false };
  }
}
ObjectSetPrototypeOf(HeadersIterator.prototype, IteratorPrototype);
nameClass(HeadersIterator, 'HeadersIterator', 'Headers Iterator');

function createIterator(headers: Headers, kind: IterationKind): HeadersIterator {
  return new HeadersIterator(headers, kind);
}

registerInspector(Headers.prototype, (headers: Headers) => {
  const pairs = sortedOf(headers);
  const plain: Record<string, string> = ObjectCreate(null);
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    plain[name] = plain[name] === undefined ? pairs[i + 1]! : `${plain[name]}, ${pairs[i + 1]!}`;
  }
  return plain;
});

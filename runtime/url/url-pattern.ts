/**
 * URLPattern (https://urlpattern.spec.whatwg.org/) from urlpattern-polyfill 10.1.0 (MIT, the polyfill
 * the standard's authors maintain), a runtime chunk (src/isolates/runtime-bundle.ts) loaded on first use
 * of the global: an isolate that never matches a pattern holds neither its source nor its class. It
 * parses URLs with the URL global (whatwg-url).
 *
 * The global is a thin class over the polyfill's: compiling a pattern costs ~50 µs here (Node's native
 * one ~11 µs), and code written for Workers, where it is cheap, often builds its patterns in the
 * handler, per request. A compiled pattern never changes, so equal constructor arguments share one
 * (PATTERNS_KEPT, least recently used first). A dictionary's members are read once, in Web IDL's
 * order, converted to strings, and the polyfill gets that copy, so a getter cannot make the key and the
 * compiled pattern disagree. Arguments of other shapes (options that are not an object, a base URL
 * with a dictionary) go to the polyfill as they came, for its own errors.
 */
import { loadChunk } from '../chunks.ts';
import { defineLazyGlobal, nameClass } from '../global/define.ts';
import {
  JSONStringify,
  MapCtor,
  MapIteratorPrototypeNext,
  MapPrototypeDelete,
  MapPrototypeGet,
  MapPrototypeGetSize,
  MapPrototypeKeys,
  MapPrototypeSet,
} from '../primordials.ts';

/** Distinct patterns an isolate keeps compiled (each a few KB of its own heap). */
const PATTERNS_KEPT = 128;

/** The members of a URLPatternInit, in Web IDL's (lexicographic) order. */
const INIT_MEMBERS = ['baseURL', 'hash', 'hostname', 'password', 'pathname', 'port', 'protocol', 'search', 'username'] as const;

interface CompiledPattern {
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  readonly hasRegExpGroups: boolean;
  test(input?: unknown, baseURL?: unknown): boolean;
  exec(input?: unknown, baseURL?: unknown): unknown;
}

interface PolyfillClass {
  new (input?: unknown, baseURL?: unknown, options?: unknown): CompiledPattern;
  compareComponent(component: unknown, left: unknown, right: unknown): number;
}

let urlPattern: Function | null = null;

function load(): Function {
  if (urlPattern !== null) return urlPattern;
  urlPattern = defineURLPattern(loadChunk<{ URLPattern: PolyfillClass }>('urlpattern').URLPattern);
  return urlPattern;
}

export function installURLPatternGlobal(): void {
  defineLazyGlobal('URLPattern', load);
}

/** The constructor's arguments as a cache key and the copy to compile, or null for shapes left to the polyfill. */
function shareable(input: unknown, baseOrOptions: unknown, maybeOptions: unknown): { key: string; args: unknown[] } | null {
  // As the polyfill reads them: a string second argument is the base URL, anything else the options.
  const baseURL = typeof baseOrOptions === 'string' ? baseOrOptions : undefined;
  const options = typeof baseOrOptions === 'string' ? maybeOptions : baseOrOptions;
  let ignoreCase = false;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) return null;
    ignoreCase = (options as { ignoreCase?: unknown }).ignoreCase === true;
  }
  // Own properties only, built without arrays: a tenant's setters on Array.prototype or getters on
  // Object.prototype must not change the key or what the polyfill reads.
  const compileOptions = { __proto__: null, ignoreCase };
  if (typeof input === 'string') {
    const key = `s${ignoreCase ? 'i' : ''}${JSONStringify(input)}${baseURL === undefined ? '' : JSONStringify(baseURL)}`;
    return { key, args: baseURL === undefined ? [input, compileOptions] : [input, baseURL, compileOptions] };
  }
  if (typeof input !== 'object' || input === null || baseURL !== undefined) return null;
  const init: Record<string, string> = { __proto__: null } as never;
  let key = ignoreCase ? 'oi' : 'o';
  for (let i = 0; i < INIT_MEMBERS.length; i++) {
    const member = INIT_MEMBERS[i]!;
    const value: unknown = (input as Record<string, unknown>)[member];
    if (value === undefined) {
      key += ',';
      continue;
    }
    // Web IDL's USVString conversion (a Symbol throws); the polyfill took only strings and ignored the rest.
    const text = typeof value === 'string' ? value : `${value as string}`;
    init[member] = text;
    key += `,${JSONStringify(text)}`;
  }
  return { key, args: [init, compileOptions] };
}

function defineURLPattern(Polyfill: PolyfillClass): Function {
  const compiled = new MapCtor<string, CompiledPattern>();

  function compile(input: unknown, baseOrOptions: unknown, maybeOptions: unknown): CompiledPattern {
    const shared = shareable(input, baseOrOptions, maybeOptions);
    if (shared === null) return new Polyfill(input, baseOrOptions, maybeOptions);
    const { key, args } = shared;
    let pattern = MapPrototypeGet(compiled, key);
    if (pattern !== undefined) {
      // Most recently used last: the first key is the one to drop.
      MapPrototypeDelete(compiled, key);
    } else {
      pattern = new Polyfill(args[0], args[1], args[2]);
      if (MapPrototypeGetSize(compiled) >= PATTERNS_KEPT) {
        MapPrototypeDelete(compiled, MapIteratorPrototypeNext(MapPrototypeKeys(compiled)).value!);
      }
    }
    MapPrototypeSet(compiled, key, pattern);
    return pattern;
  }

  let unwrap: (value: unknown) => unknown;

  // `= {}` as in the standard's IDL: the constructor's and methods' lengths are 0.
  class URLPattern {
    readonly #pattern: CompiledPattern;

    constructor(input: unknown = {}, baseOrOptions?: unknown, maybeOptions?: unknown) {
      this.#pattern = compile(input, baseOrOptions, maybeOptions);
    }

    static compareComponent(component: unknown, left: unknown, right: unknown): number {
      return Polyfill.compareComponent(component, unwrap(left), unwrap(right));
    }

    test(input: unknown = {}, baseURL?: unknown): boolean {
      return this.#pattern.test(input, baseURL);
    }

    exec(input: unknown = {}, baseURL?: unknown): unknown {
      return this.#pattern.exec(input, baseURL);
    }

    get protocol(): string {
      return this.#pattern.protocol;
    }

    get username(): string {
      return this.#pattern.username;
    }

    get password(): string {
      return this.#pattern.password;
    }

    get hostname(): string {
      return this.#pattern.hostname;
    }

    get port(): string {
      return this.#pattern.port;
    }

    get pathname(): string {
      return this.#pattern.pathname;
    }

    get search(): string {
      return this.#pattern.search;
    }

    get hash(): string {
      return this.#pattern.hash;
    }

    get hasRegExpGroups(): boolean {
      return this.#pattern.hasRegExpGroups;
    }

    static {
      unwrap = (value) => (typeof value === 'object' && value !== null && #pattern in value ? value.#pattern : value);
    }
  }

  nameClass(URLPattern, 'URLPattern');
  return URLPattern;
}

/**
 * URL and URLSearchParams (https://url.spec.whatwg.org/#api) as two small classes over whatwg-url's
 * parser and application/x-www-form-urlencoded modules, which do the standard's algorithms.
 *
 * Why not whatwg-url's own classes: they come wrapped by webidl2js (argument conversion modules, an
 * implementation object behind every wrapper, a constructor registry). Loading them took ~0.6 ms and
 * kept ~90 KB of heap in every isolate that touched a URL, and their bytecode was in the runtime's code
 * cache that every isolate loads. These classes keep the Web IDL behaviour that code can observe:
 * TypeErrors for missing arguments and for the wrong receiver (private fields), USVString conversion
 * (lone surrogates become U+FFFD), the URLSearchParams init union, live pair iterators, and `length`s.
 *
 * A URL's searchParams object is made when first read, from the query at that moment; after that the
 * URL and it update each other as the standard says.
 */
import type { URLRecord } from 'whatwg-url';
import {
  ArrayPrototypeSort,
  ArrayPrototypeSplice,
  CONFIGURABLE,
  defineValue,
  IteratorPrototype,
  ObjectSetPrototypeOf,
  ReflectApply,
  StringPrototypeSlice,
  StringPrototypeToWellFormed,
  SymbolIterator,
  TypeErrorCtor,
  WRITABLE,
} from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { forEachInitPair } from '../global/init-pairs.ts';
import { registerInspector } from '../global/inspect.ts';

/** The parts of whatwg-url/lib/url-state-machine.js used here. */
export interface UrlStateMachine {
  basicURLParse(input: string, options?: { baseURL?: URLRecord | null; url?: URLRecord; stateOverride?: string }): URLRecord | null;
  serializeURL(url: URLRecord, excludeFragment?: boolean): string;
  serializeURLOrigin(url: URLRecord): string;
  serializeHost(host: unknown): string;
  serializeInteger(integer: number): string;
  serializePath(url: URLRecord): string;
  setTheUsername(url: URLRecord, username: string): void;
  setThePassword(url: URLRecord, password: string): void;
  cannotHaveAUsernamePasswordPort(url: URLRecord): boolean;
  hasAnOpaquePath(url: URLRecord): boolean;
}

/** whatwg-url/lib/urlencoded.js. */
export interface Urlencoded {
  parseUrlencodedString(input: string): [string, string][];
  serializeUrlencoded(tuples: [string, string][]): string;
}

type Pair = [string, string];
type IterationKind = 'key' | 'value' | 'key+value';

/** https://webidl.spec.whatwg.org/#es-USVString: `${}` throws for a Symbol, as ToString does. */
function usv(value: unknown): string {
  return StringPrototypeToWellFormed(typeof value === 'string' ? value : `${value as string}`);
}

function requireArguments(given: number, needed: number, operation: string, what: string): void {
  if (given >= needed) return;
  throw new TypeErrorCtor(
    `Failed to ${operation} '${what}': ${needed} argument${needed === 1 ? '' : 's'} required, but only ${given} present.`,
  );
}

export function defineURLClasses(machine: UrlStateMachine, urlencoded: Urlencoded) {
  const parseQuery = (query: string | null): Pair[] => (query === null ? [] : urlencoded.parseUrlencodedString(query));

  /** The API URL parser with an optional base; on failure, which input failed (for the error message). */
  function parse(url: unknown, base: unknown): URLRecord | { failed: 'URL' | 'base URL'; input: string } {
    let baseRecord: URLRecord | null = null;
    if (base !== undefined) {
      const baseInput = usv(base);
      baseRecord = machine.basicURLParse(baseInput);
      if (baseRecord === null) return { failed: 'base URL', input: baseInput };
    }
    const input = usv(url);
    const record = machine.basicURLParse(input, baseRecord === null ? undefined : { baseURL: baseRecord });
    return record ?? { failed: 'URL', input };
  }

  const failed = (result: ReturnType<typeof parse>): result is { failed: 'URL' | 'base URL'; input: string } => 'failed' in result;

  // Set by the classes' static blocks: each reaches the other's state only through these.
  let paramsFor: (url: URL, list: Pair[]) => URLSearchParams;
  let replaceList: (params: URLSearchParams, list: Pair[]) => void;
  let setQuery: (url: URL, query: string | null) => void;
  let listOf: (params: URLSearchParams) => Pair[];
  let isSearchParams: (value: unknown) => value is URLSearchParams;
  /** URL.parse hands its record to the constructor with this token, which tenant code cannot reach. */
  const FROM_RECORD = {};
  let parsedRecord: URLRecord | null = null;

  class URL {
    #url: URLRecord;
    /** Made on first read of searchParams. */
    #params: URLSearchParams | null = null;

    // https://url.spec.whatwg.org/#dom-url-url
    constructor(url: unknown, base?: unknown) {
      requireArguments(arguments.length, 1, 'construct', 'URL');
      if (url === FROM_RECORD) {
        this.#url = parsedRecord!;
        parsedRecord = null;
        return;
      }
      const result = parse(url, base);
      if (failed(result)) throw new TypeErrorCtor(`Invalid ${result.failed}: ${result.input}`);
      this.#url = result;
    }

    static parse(url: unknown, base?: unknown): URL | null {
      requireArguments(arguments.length, 1, "execute 'parse' on", 'URL');
      const result = parse(url, base);
      if (failed(result)) return null;
      parsedRecord = result;
      return new URL(FROM_RECORD);
    }

    static canParse(url: unknown, base?: unknown): boolean {
      requireArguments(arguments.length, 1, "execute 'canParse' on", 'URL');
      return !failed(parse(url, base));
    }

    get href(): string {
      return machine.serializeURL(this.#url);
    }

    set href(value: unknown) {
      const input = usv(value);
      const record = machine.basicURLParse(input);
      if (record === null) throw new TypeErrorCtor(`Invalid URL: ${input}`);
      this.#url = record;
      if (this.#params !== null) replaceList(this.#params, parseQuery(record.query));
    }

    get origin(): string {
      return machine.serializeURLOrigin(this.#url);
    }

    get protocol(): string {
      return `${this.#url.scheme}:`;
    }

    set protocol(value: unknown) {
      machine.basicURLParse(`${usv(value)}:`, { url: this.#url, stateOverride: 'scheme start' });
    }

    get username(): string {
      return this.#url.username;
    }

    set username(value: unknown) {
      const input = usv(value);
      if (!machine.cannotHaveAUsernamePasswordPort(this.#url)) machine.setTheUsername(this.#url, input);
    }

    get password(): string {
      return this.#url.password;
    }

    set password(value: unknown) {
      const input = usv(value);
      if (!machine.cannotHaveAUsernamePasswordPort(this.#url)) machine.setThePassword(this.#url, input);
    }

    get host(): string {
      const url = this.#url;
      if (url.host === null) return '';
      const host = machine.serializeHost(url.host);
      return url.port === null ? host : `${host}:${machine.serializeInteger(url.port)}`;
    }

    set host(value: unknown) {
      const input = usv(value);
      if (!machine.hasAnOpaquePath(this.#url)) machine.basicURLParse(input, { url: this.#url, stateOverride: 'host' });
    }

    get hostname(): string {
      return this.#url.host === null ? '' : machine.serializeHost(this.#url.host);
    }

    set hostname(value: unknown) {
      const input = usv(value);
      if (!machine.hasAnOpaquePath(this.#url)) machine.basicURLParse(input, { url: this.#url, stateOverride: 'hostname' });
    }

    get port(): string {
      return this.#url.port === null ? '' : machine.serializeInteger(this.#url.port);
    }

    set port(value: unknown) {
      const input = usv(value);
      if (machine.cannotHaveAUsernamePasswordPort(this.#url)) return;
      if (input === '') this.#url.port = null;
      else machine.basicURLParse(input, { url: this.#url, stateOverride: 'port' });
    }

    get pathname(): string {
      return machine.serializePath(this.#url);
    }

    set pathname(value: unknown) {
      const input = usv(value);
      if (machine.hasAnOpaquePath(this.#url)) return;
      this.#url.path = [];
      machine.basicURLParse(input, { url: this.#url, stateOverride: 'path start' });
    }

    get search(): string {
      const query = this.#url.query;
      return query === null || query === '' ? '' : `?${query}`;
    }

    set search(value: unknown) {
      const input = usv(value);
      const url = this.#url;
      if (input === '') {
        url.query = null;
        if (this.#params !== null) replaceList(this.#params, []);
        return;
      }
      url.query = '';
      machine.basicURLParse(input[0] === '?' ? StringPrototypeSlice(input, 1) : input, { url, stateOverride: 'query' });
      if (this.#params !== null) replaceList(this.#params, parseQuery(url.query));
    }

    get searchParams(): URLSearchParams {
      return (this.#params ??= paramsFor(this, parseQuery(this.#url.query)));
    }

    get hash(): string {
      const fragment = this.#url.fragment;
      return fragment === null || fragment === '' ? '' : `#${fragment}`;
    }

    set hash(value: unknown) {
      const input = usv(value);
      const url = this.#url;
      if (input === '') {
        url.fragment = null;
        return;
      }
      url.fragment = '';
      machine.basicURLParse(input[0] === '#' ? StringPrototypeSlice(input, 1) : input, { url, stateOverride: 'fragment' });
    }

    toString(): string {
      return machine.serializeURL(this.#url);
    }

    toJSON(): string {
      return machine.serializeURL(this.#url);
    }

    static {
      setQuery = (url, query) => {
        url.#url.query = query;
      };
    }
  }

  class URLSearchParams {
    #list: Pair[];
    /** The URL whose query this object is (its searchParams), or null. */
    #url: URL | null = null;

    // https://url.spec.whatwg.org/#dom-urlsearchparams-urlsearchparams
    constructor(init: unknown = '') {
      this.#list = listFromInit(init);
    }

    get size(): number {
      return this.#list.length;
    }

    append(name: unknown, value: unknown): void {
      requireArguments(arguments.length, 2, "execute 'append' on", 'URLSearchParams');
      const list = this.#list;
      list[list.length] = [usv(name), usv(value)];
      this.#update();
    }

    delete(name: unknown, value?: unknown): void {
      requireArguments(arguments.length, 1, "execute 'delete' on", 'URLSearchParams');
      const key = usv(name);
      const only = value === undefined ? undefined : usv(value);
      const list = this.#list;
      for (let i = 0; i < list.length; ) {
        if (list[i]![0] === key && (only === undefined || list[i]![1] === only)) ArrayPrototypeSplice(list, i, 1);
        else i++;
      }
      this.#update();
    }

    get(name: unknown): string | null {
      requireArguments(arguments.length, 1, "execute 'get' on", 'URLSearchParams');
      const key = usv(name);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i]![0] === key) return list[i]![1];
      return null;
    }

    getAll(name: unknown): string[] {
      requireArguments(arguments.length, 1, "execute 'getAll' on", 'URLSearchParams');
      const key = usv(name);
      const list = this.#list;
      const values: string[] = [];
      for (let i = 0; i < list.length; i++) if (list[i]![0] === key) values[values.length] = list[i]![1];
      return values;
    }

    has(name: unknown, value?: unknown): boolean {
      requireArguments(arguments.length, 1, "execute 'has' on", 'URLSearchParams');
      const key = usv(name);
      const only = value === undefined ? undefined : usv(value);
      const list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i]![0] === key && (only === undefined || list[i]![1] === only)) return true;
      return false;
    }

    set(name: unknown, value: unknown): void {
      requireArguments(arguments.length, 2, "execute 'set' on", 'URLSearchParams');
      const key = usv(name);
      const val = usv(value);
      const list = this.#list;
      let found = false;
      for (let i = 0; i < list.length; ) {
        if (list[i]![0] !== key) i++;
        else if (found) ArrayPrototypeSplice(list, i, 1);
        else {
          list[i] = [key, val];
          found = true;
          i++;
        }
      }
      if (!found) list[list.length] = [key, val];
      this.#update();
    }

    // Stable, by code units (https://url.spec.whatwg.org/#dom-urlsearchparams-sort).
    sort(): void {
      ArrayPrototypeSort(this.#list, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#update();
    }

    toString(): string {
      return urlencoded.serializeUrlencoded(this.#list);
    }

    entries(): URLSearchParamsIterator {
      return new URLSearchParamsIterator(this, 'key+value');
    }

    keys(): URLSearchParamsIterator {
      return new URLSearchParamsIterator(this, 'key');
    }

    values(): URLSearchParamsIterator {
      return new URLSearchParamsIterator(this, 'value');
    }

    forEach(callback: unknown, thisArg: unknown = undefined): void {
      requireArguments(arguments.length, 1, "execute 'forEach' on", 'URLSearchParams');
      if (typeof callback !== 'function') {
        throw new TypeErrorCtor("Failed to execute 'forEach' on 'URLSearchParams': The callback provided as parameter 1 is not a function.");
      }
      // Live: pairs added or removed by the callback are seen, as with the iterators.
      for (let i = 0; i < this.#list.length; i++) {
        const pair = this.#list[i]!;
        ReflectApply(callback, thisArg, [pair[1], pair[0], this]);
      }
    }

    // https://url.spec.whatwg.org/#concept-urlsearchparams-update
    #update(): void {
      if (this.#url === null) return;
      const query = urlencoded.serializeUrlencoded(this.#list);
      setQuery(this.#url, query === '' ? null : query);
    }

    static {
      paramsFor = (url, list) => {
        const params = new URLSearchParams();
        params.#list = list;
        params.#url = url;
        return params;
      };
      replaceList = (params, list) => {
        params.#list = list;
      };
      listOf = (params) => params.#list;
      isSearchParams = (value) => typeof value === 'object' && value !== null && #list in value;
    }
  }

  /** (sequence<sequence<USVString>> or record<USVString, USVString> or USVString) → the list. */
  function listFromInit(init: unknown): Pair[] {
    if (typeof init !== 'object' && typeof init !== 'function') {
      const text = usv(init);
      return urlencoded.parseUrlencodedString(text[0] === '?' ? StringPrototypeSlice(text, 1) : text);
    }
    if (init === null) return urlencoded.parseUrlencodedString('null');
    const list: Pair[] = [];
    if (isSearchParams(init)) {
      // The pairs its iterator gives, without running a tenant-replaceable iterator.
      const source = listOf(init);
      for (let i = 0; i < source.length; i++) list[i] = [source[i]![0], source[i]![1]];
      return list;
    }
    forEachInitPair(init, "Failed to construct 'URLSearchParams'", 'pair', (name, value) => {
      list[list.length] = [usv(name), usv(value)];
    });
    return list;
  }

  // https://webidl.spec.whatwg.org/#es-iterator-prototype-object: live over the list.
  class URLSearchParamsIterator {
    #params: URLSearchParams;
    #kind: IterationKind;
    #index = 0;

    constructor(params: URLSearchParams, kind: IterationKind) {
      this.#params = params;
      this.#kind = kind;
    }

    next(): IteratorResult<string | Pair, undefined> {
      const list = listOf(this.#params);
      const index = this.#index;
      if (index >= list.length) return { value: undefined, done: true };
      this.#index = index + 1;
      const pair = list[index]!;
      const kind = this.#kind;
      return { value: kind === 'key' ? pair[0] : kind === 'value' ? pair[1] : [pair[0], pair[1]], done: false };
    }
  }
  ObjectSetPrototypeOf(URLSearchParamsIterator.prototype, IteratorPrototype);
  nameClass(URLSearchParamsIterator, 'URLSearchParamsIterator', 'URLSearchParams Iterator');

  nameClass(URL, 'URL');
  nameClass(URLSearchParams, 'URLSearchParams');
  defineValue(URLSearchParams.prototype, SymbolIterator, URLSearchParams.prototype.entries, WRITABLE | CONFIGURABLE);
  // Web IDL lengths: the number of required arguments.
  for (const [fn, length] of [
    [URL, 1],
    [URL.parse, 1],
    [URL.canParse, 1],
    [URLSearchParams, 0],
    [URLSearchParams.prototype.delete, 1],
    [URLSearchParams.prototype.has, 1],
  ] as const) {
    defineValue(fn, 'length', length, CONFIGURABLE);
  }

  registerInspector(URL.prototype, (url: URL) => ({
    href: url.href,
    origin: url.origin,
    protocol: url.protocol,
    username: url.username,
    password: url.password,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
  }));
  registerInspector(URLSearchParams.prototype, (params: URLSearchParams) => {
    const plain: Record<string, string> = {};
    const list = listOf(params);
    for (let i = 0; i < list.length; i++) plain[list[i]![0]] = list[i]![1];
    return plain;
  });

  return {
    URL,
    URLSearchParams,
    isSearchParams: (value: unknown): boolean => isSearchParams(value),
    serializeSearchParams: (params: object): string => urlencoded.serializeUrlencoded(listOf(params as URLSearchParams)),
  };
}

export type URLClasses = ReturnType<typeof defineURLClasses>;

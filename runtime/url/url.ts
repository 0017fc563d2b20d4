/**
 * URL and URLSearchParams (https://url.spec.whatwg.org/) come from whatwg-url, the standard's
 * reference implementation, bundled in and loaded on first use (its start-up costs ~1.5 ms that an
 * isolate which never touches a URL should not pay). Its few dependencies on the platform are
 * replaced at bundle time (src/isolates/runtime-bundle.ts):
 *   - whatwg-url/lib/encoding.js  → whatwg-url-encoding.ts (this runtime's UTF-8 codec, via hooks)
 *   - @exodus/bytes/whatwg.js      → percent-encode-after-encoding.ts (UTF-8 only)
 *   - @exodus/bytes/encoding.js    → no-legacy-encodings.ts (legacy encodings are for HTML documents)
 *   - tr46                         → tr46-lazy.ts (ASCII fast path; the Unicode tables load on first IDN)
 * The runtime itself parses through parseURL()/serializeURL(), never through the replaceable globals.
 */
import type { URLRecord } from 'whatwg-url';
import { utf8DecodeWithoutBOM, utf8Encode } from '../encoding/utf8.ts';
import { uncurryThis } from '../primordials.ts';
import { defineLazyGlobal, setName } from '../global/define.ts';
import { hooks } from './whatwg-url-hooks.ts';
import { parseSimpleURL } from './simple-url.ts';
import { parseSimpleUrlencoded } from './simple-urlencoded.ts';

export type { URLRecord };

type WhatwgUrl = typeof import('whatwg-url');
type SearchParamsWrapper = typeof import('whatwg-url/lib/URLSearchParams.js');
/** The module URL's query and URLSearchParams are parsed with. */
interface UrlencodedParser {
  parseUrlencodedString(input: string): [string, string][];
}
/** The module every whatwg-url parse goes through (its URL class, parseURL and basicURLParse). */
interface StateMachine {
  basicURLParse(input: string, options?: { baseURL?: URLRecord | null; url?: URLRecord; stateOverride?: string }): URLRecord | null;
}

declare const require: {
  (id: 'whatwg-url'): WhatwgUrl;
  (id: 'whatwg-url/lib/URLSearchParams.js'): SearchParamsWrapper;
  (id: 'whatwg-url/lib/url-state-machine.js'): StateMachine;
  (id: 'whatwg-url/lib/urlencoded.js'): UrlencodedParser;
};

hooks.utf8Encode = utf8Encode;
hooks.utf8DecodeWithoutBOM = utf8DecodeWithoutBOM;

interface Loaded {
  api: WhatwgUrl;
  isSearchParams: (value: unknown) => boolean;
  searchParamsToString: (params: object) => string;
}

let loaded: Loaded | null = null;

function load(): Loaded {
  if (loaded !== null) return loaded;
  // esbuild keeps these CommonJS modules unevaluated until this call.
  const api = require('whatwg-url');
  const wrapper = require('whatwg-url/lib/URLSearchParams.js');
  takeSimpleURLsFirst(require('whatwg-url/lib/url-state-machine.js'));
  takeSimpleQueriesFirst(require('whatwg-url/lib/urlencoded.js'));
  setName(api.URL, 'URL');
  setName(api.URLSearchParams, 'URLSearchParams');
  loaded = {
    api,
    isSearchParams: wrapper.is,
    searchParamsToString: uncurryThis(api.URLSearchParams.prototype.toString as (this: object) => string),
  };
  return loaded;
}

/**
 * Whole parses (not a setter's, which passes `url` and `stateOverride`) try simple-url.ts first. Its
 * forms start with "scheme://", for which the parser never reads the base URL.
 */
function takeSimpleURLsFirst(machine: StateMachine): void {
  const basicURLParse = machine.basicURLParse;
  machine.basicURLParse = (input, options) =>
    (options?.url === undefined && options?.stateOverride === undefined ? parseSimpleURL(input) : null) ?? basicURLParse(input, options);
}

/** Queries and URLSearchParams strings try simple-urlencoded.ts first. */
function takeSimpleQueriesFirst(parser: UrlencodedParser): void {
  const parseUrlencodedString = parser.parseUrlencodedString;
  parser.parseUrlencodedString = (input) => parseSimpleUrlencoded(input) ?? parseUrlencodedString(input);
}

/** https://url.spec.whatwg.org/#concept-url-parser, or null on failure. */
export function parseURL(input: string, base?: URLRecord): URLRecord | null {
  return load().api.parseURL(input, base === undefined ? undefined : { baseURL: base });
}

export function serializeURL(url: URLRecord, excludeFragment = false): string {
  return load().api.serializeURL(url, excludeFragment);
}

/** False until whatwg-url is loaded: no URLSearchParams object can exist before. */
export function isURLSearchParams(value: unknown): boolean {
  return loaded !== null && loaded.isSearchParams(value);
}

/** https://url.spec.whatwg.org/#concept-urlencoded-serializer of a URLSearchParams object. */
export function serializeSearchParams(params: object): string {
  return load().searchParamsToString(params);
}

/**
 * Install URL and URLSearchParams as globals that load whatwg-url when first read. The first read (or
 * a write) replaces the accessor with an ordinary writable data property, as for other interfaces.
 */
export function installURLGlobals(): void {
  for (const name of ['URL', 'URLSearchParams'] as const) defineLazyGlobal(name, () => load().api[name]);
}

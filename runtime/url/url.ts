/**
 * URL and URLSearchParams (https://url.spec.whatwg.org/): the standard's algorithms come from
 * whatwg-url, its reference implementation, bundled in; the classes are the runtime's own
 * (url-classes.ts). Both are loaded on first use: an isolate that never touches a URL pays nothing.
 * whatwg-url's few dependencies on the platform are replaced at bundle time
 * (src/isolates/runtime-bundle.ts):
 *   - whatwg-url/lib/encoding.js  → whatwg-url-encoding.ts (this runtime's UTF-8 codec, via hooks)
 *   - @exodus/bytes/whatwg.js      → percent-encode-after-encoding.ts (UTF-8 only)
 *   - @exodus/bytes/encoding.js    → no-legacy-encodings.ts (legacy encodings are for HTML documents)
 *   - tr46                         → tr46-lazy.ts (ASCII fast path; the Unicode tables load on first IDN)
 * The runtime itself parses through parseURL()/serializeURL(), never through the replaceable globals.
 */
import type { URLRecord } from 'whatwg-url';
import { utf8DecodeWithoutBOM, utf8Encode } from '../encoding/utf8.ts';
import { defineLazyGlobal } from '../global/define.ts';
import { hooks } from './whatwg-url-hooks.ts';
import { parseSimpleURL } from './simple-url.ts';
import { parseSimpleUrlencoded } from './simple-urlencoded.ts';
import { defineURLClasses, type UrlStateMachine, type Urlencoded, type URLClasses } from './url-classes.ts';

export type { URLRecord };

declare const require: {
  (id: 'whatwg-url/lib/url-state-machine.js'): UrlStateMachine;
  (id: 'whatwg-url/lib/urlencoded.js'): Urlencoded;
};

hooks.utf8Encode = utf8Encode;
hooks.utf8DecodeWithoutBOM = utf8DecodeWithoutBOM;

let machine: UrlStateMachine | null = null;
let classes: URLClasses | null = null;

/** whatwg-url's parser (esbuild keeps its CommonJS modules unevaluated until this call). */
function loadMachine(): UrlStateMachine {
  if (machine !== null) return machine;
  const loaded = require('whatwg-url/lib/url-state-machine.js');
  takeSimpleURLsFirst(loaded);
  machine = loaded;
  return loaded;
}

function loadClasses(): URLClasses {
  if (classes !== null) return classes;
  const urlencoded = require('whatwg-url/lib/urlencoded.js');
  takeSimpleQueriesFirst(urlencoded);
  classes = defineURLClasses(loadMachine(), urlencoded);
  return classes;
}

/**
 * Whole parses (not a setter's, which passes `url` and `stateOverride`) try simple-url.ts first. Its
 * forms start with "scheme://", for which the parser never reads the base URL.
 */
function takeSimpleURLsFirst(parser: UrlStateMachine): void {
  const basicURLParse = parser.basicURLParse;
  parser.basicURLParse = (input, options) =>
    (options?.url === undefined && options?.stateOverride === undefined ? parseSimpleURL(input) : null) ?? basicURLParse(input, options);
}

/** Queries and URLSearchParams strings try simple-urlencoded.ts first. */
function takeSimpleQueriesFirst(parser: Urlencoded): void {
  const parseUrlencodedString = parser.parseUrlencodedString;
  parser.parseUrlencodedString = (input) => parseSimpleUrlencoded(input) ?? parseUrlencodedString(input);
}

/** https://url.spec.whatwg.org/#concept-url-parser, or null on failure. */
export function parseURL(input: string, base?: URLRecord): URLRecord | null {
  return loadMachine().basicURLParse(input, base === undefined ? undefined : { baseURL: base });
}

export function serializeURL(url: URLRecord, excludeFragment = false): string {
  return loadMachine().serializeURL(url, excludeFragment);
}

/** False until the classes are defined: no URLSearchParams object can exist before. */
export function isURLSearchParams(value: unknown): boolean {
  return classes !== null && classes.isSearchParams(value);
}

/** https://url.spec.whatwg.org/#concept-urlencoded-serializer of a URLSearchParams object. */
export function serializeSearchParams(params: object): string {
  return loadClasses().serializeSearchParams(params);
}

/**
 * Install URL and URLSearchParams as globals defined when first read. The first read (or a write)
 * replaces the accessor with an ordinary writable data property, as for other interfaces.
 */
export function installURLGlobals(): void {
  for (const name of ['URL', 'URLSearchParams'] as const) defineLazyGlobal(name, () => loadClasses()[name]);
}

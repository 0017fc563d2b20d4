/**
 * URL and URLSearchParams (https://url.spec.whatwg.org/): the standard's algorithms come from
 * whatwg-url, its reference implementation, built as a runtime chunk; the classes are the runtime's own
 * (url-classes.ts). The classes are defined on first use, and the chunk is loaded only once a URL needs
 * it (simpleFirst below): most URLs (a request's, a path-absolute one against it) never do. whatwg-url's
 * few dependencies on the platform are handed to the chunk when it is made
 * (src/isolates/runtime-bundle.ts, WHATWG_URL_GIVEN):
 *   - whatwg-url/lib/encoding.js  → this runtime's UTF-8 codec (its own builds a global TextEncoder and
 *                                   TextDecoder as it loads, which would run tenant code if they were replaced)
 *   - @exodus/bytes/whatwg.js      → percent-encode-after-encoding.ts (UTF-8 only)
 *   - @exodus/bytes/encoding.js    → nothing (it registers legacy encodings, which are for HTML documents)
 *   - tr46                         → tr46-lazy.ts (ASCII fast path; the Unicode tables load on first IDN)
 * The runtime itself parses through parseURL()/serializeURL(), never through the replaceable globals.
 */
import type { URLRecord } from 'whatwg-url';
import { makeChunk } from '../chunks.ts';
import { utf8DecodeWithoutBOM, utf8Encode } from '../encoding/utf8.ts';
import { defineLazyGlobal } from '../global/define.ts';
import { percentEncodeAfterEncoding } from './percent-encode-after-encoding.ts';
import { toASCII, toUnicode } from './tr46-lazy.ts';
import { parseSimpleURL, serializeSimpleHost, serializeSimpleOrigin, serializeSimplePath, serializeSimpleURL, setSimple, type SimpleURLRecord } from './simple-url.ts';
import { parseSimpleUrlencoded, serializeSimpleUrlencoded } from './simple-urlencoded.ts';
import { defineURLClasses, type UrlStateMachine, type Urlencoded, type URLClasses } from './url-classes.ts';

export type { URLRecord };

interface WhatwgUrl {
  stateMachine: UrlStateMachine;
  urlencoded: Urlencoded;
}

let machine: UrlStateMachine | null = null;
let urlencoded: Urlencoded | null = null;
let classes: URLClasses | null = null;

/** What the whatwg-url chunk takes from the platform (null-prototype objects of functions). */
const whatwgUrlGiven = () => ({
  __proto__: null,
  encoding: { __proto__: null, utf8Encode, utf8DecodeWithoutBOM },
  percentEncoding: { __proto__: null, percentEncodeAfterEncoding },
  tr46: { __proto__: null, toASCII, toUnicode },
});

/** whatwg-url's parser (its chunk is loaded by the first URL the fast path does not take). */
function loadMachine(): UrlStateMachine {
  if (machine !== null) return machine;
  const loaded = makeChunk<WhatwgUrl>('whatwg-url', whatwgUrlGiven).stateMachine;
  takeSimpleURLsFirst(loaded);
  machine = loaded;
  return loaded;
}

function loadUrlencoded(): Urlencoded {
  return (urlencoded ??= makeChunk<WhatwgUrl>('whatwg-url', whatwgUrlGiven).urlencoded);
}

/**
 * Whole parses (not a setter's, which passes `url` and `stateOverride`) try simple-url.ts first: an
 * absolute URL, for which the parser never reads the base URL, or a path-absolute one against a base.
 */
function takeSimpleURLsFirst(parser: UrlStateMachine): void {
  const basicURLParse = parser.basicURLParse;
  parser.basicURLParse = (input, options) =>
    (options?.url === undefined && options?.stateOverride === undefined ? parseSimpleURL(input, options?.baseURL) : null) ?? basicURLParse(input, options);
}

/**
 * The state machine's functions without loading it while every URL is a simple one. Loading whatwg-url
 * (its state machine and urlencoded modules) took ~0.6 ms of an isolate's first `new URL()`, for URLs the
 * fast path parses anyway. Until something loads it (an input the fast path does not take, a setter
 * given what setSimple does not take, userinfo), every URL record in the isolate was made by
 * parseSimpleURL and changed only by what keeps it one of those forms (setSimple, a port or query set to
 * null, a query from URLSearchParams), so these answer from simple-url.ts; afterwards everything goes to
 * the machine.
 */
const simpleFirst: UrlStateMachine = {
  basicURLParse: (input, options) => {
    if (machine === null) {
      if (options?.url === undefined && options?.stateOverride === undefined) {
        const record = parseSimpleURL(input, options?.baseURL);
        if (record !== null) return record;
      } else if (options.url !== undefined && options.stateOverride !== undefined && setSimple(options.url as SimpleURLRecord, input, options.stateOverride)) {
        return options.url;
      }
    }
    return loadMachine().basicURLParse(input, options);
  },
  serializeURL: (url, excludeFragment) => (machine === null ? serializeSimpleURL(url as SimpleURLRecord, excludeFragment) : machine.serializeURL(url, excludeFragment)),
  serializeURLOrigin: (url) => (machine === null ? serializeSimpleOrigin(url as SimpleURLRecord) : machine.serializeURLOrigin(url)),
  serializeHost: (host) => (machine === null ? serializeSimpleHost(host as string | number) : machine.serializeHost(host)),
  serializeInteger: (integer) => (machine === null ? `${integer}` : machine.serializeInteger(integer)),
  serializePath: (url) => (machine === null ? serializeSimplePath(url as SimpleURLRecord) : machine.serializePath(url)),
  setTheUsername: (url, username) => loadMachine().setTheUsername(url, username),
  setThePassword: (url, password) => loadMachine().setThePassword(url, password),
  // A simple record has a domain and a special scheme other than file, and a path of segments.
  cannotHaveAUsernamePasswordPort: (url) => (machine === null ? false : machine.cannotHaveAUsernamePasswordPort(url)),
  hasAnOpaquePath: (url) => (machine === null ? false : machine.hasAnOpaquePath(url)),
};

/** Queries, URLSearchParams strings and their serialization try simple-urlencoded.ts first; whatwg-url's module loads when needed. */
const urlencodedSimpleFirst: Urlencoded = {
  parseUrlencodedString: (input) => parseSimpleUrlencoded(input) ?? loadUrlencoded().parseUrlencodedString(input),
  serializeUrlencoded: (tuples) => serializeSimpleUrlencoded(tuples) ?? loadUrlencoded().serializeUrlencoded(tuples),
};

function loadClasses(): URLClasses {
  return (classes ??= defineURLClasses(simpleFirst, urlencodedSimpleFirst));
}

/** https://url.spec.whatwg.org/#concept-url-parser, or null on failure. */
export function parseURL(input: string, base?: URLRecord): URLRecord | null {
  return simpleFirst.basicURLParse(input, base === undefined ? undefined : { baseURL: base });
}

export function serializeURL(url: URLRecord, excludeFragment = false): string {
  return simpleFirst.serializeURL(url, excludeFragment);
}

/** False until the classes are defined: no URLSearchParams object can exist before. */
export function isURLSearchParams(value: unknown): boolean {
  return classes !== null && classes.isSearchParams(value);
}

/** https://url.spec.whatwg.org/#concept-urlencoded-serializer of a URLSearchParams object. */
export function serializeSearchParams(params: object): string {
  return loadClasses().serializeSearchParams(params);
}

/** The URL and URLSearchParams classes (made on first need), as node:url hands them out. */
export function urlClasses(): Pick<URLClasses, 'URL' | 'URLSearchParams'> {
  const { URL, URLSearchParams } = loadClasses();
  return { URL, URLSearchParams };
}

/**
 * Install URL and URLSearchParams as globals defined when first read. The first read (or a write)
 * replaces the accessor with an ordinary writable data property, as for other interfaces.
 */
export function installURLGlobals(): void {
  for (const name of ['URL', 'URLSearchParams'] as const) defineLazyGlobal(name, () => loadClasses()[name]);
}

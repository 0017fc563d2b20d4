/**
 * URL and URLSearchParams (https://url.spec.whatwg.org/) come from whatwg-url, the standard's
 * reference implementation, bundled in. Its few dependencies on the platform are replaced at bundle
 * time (see src/isolates/runtime-bundle.ts and the other files of this folder):
 *   - whatwg-url/lib/encoding.js       → whatwg-url-encoding.ts (this runtime's UTF-8 codec)
 *   - @exodus/bytes/whatwg.js           → percent-encode-after-encoding.ts (UTF-8 only)
 *   - @exodus/bytes/encoding.js         → nothing (legacy encodings only matter to HTML documents)
 *   - tr46                              → tr46-lazy.ts (ASCII fast path; the Unicode tables load on first IDN)
 * The runtime itself parses through parseURL()/serializeURL(), never through the (replaceable) globals.
 */
import * as whatwgUrl from 'whatwg-url';
import * as searchParamsWrapper from 'whatwg-url/lib/URLSearchParams.js';
import type { URLRecord } from 'whatwg-url';
import { uncurryThis } from '../primordials.ts';

export type { URLRecord };
export const URL = whatwgUrl.URL;
export const URLSearchParams = whatwgUrl.URLSearchParams;

const searchParamsToString = uncurryThis(URLSearchParams.prototype.toString as (this: object) => string);

/** https://url.spec.whatwg.org/#concept-url-parser, or null on failure. */
export function parseURL(input: string, base?: URLRecord): URLRecord | null {
  return whatwgUrl.parseURL(input, base === undefined ? undefined : { baseURL: base });
}

export function serializeURL(url: URLRecord, excludeFragment = false): string {
  return whatwgUrl.serializeURL(url, excludeFragment);
}

export function isURLSearchParams(value: unknown): boolean {
  return searchParamsWrapper.is(value);
}

/** https://url.spec.whatwg.org/#concept-urlencoded-serializer of a URLSearchParams object. */
export function serializeSearchParams(params: object): string {
  return searchParamsToString(params);
}

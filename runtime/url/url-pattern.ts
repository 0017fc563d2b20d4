/**
 * URLPattern (https://urlpattern.spec.whatwg.org/) from urlpattern-polyfill 10.1.0 (MIT, the polyfill
 * the standard's authors maintain), bundled in and evaluated on first use of the global: an isolate
 * that never matches a pattern does not pay for it. It parses URLs with the URL global (whatwg-url).
 */
import { defineLazyGlobal, setName } from '../global/define.ts';

declare const require: (id: 'urlpattern-polyfill/urlpattern') => { URLPattern: Function };

let urlPattern: Function | null = null;

function load(): Function {
  if (urlPattern !== null) return urlPattern;
  // esbuild keeps this CommonJS module unevaluated until this call.
  urlPattern = require('urlpattern-polyfill/urlpattern').URLPattern;
  setName(urlPattern, 'URLPattern');
  return urlPattern;
}

export function installURLPatternGlobal(): void {
  defineLazyGlobal('URLPattern', load);
}

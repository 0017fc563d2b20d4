/**
 * URLPattern (https://urlpattern.spec.whatwg.org/) from urlpattern-polyfill 10.1.0 (MIT, the polyfill
 * the standard's authors maintain), a runtime chunk (src/isolates/runtime-bundle.ts) loaded on first use
 * of the global: an isolate that never matches a pattern holds neither its source nor its class. It
 * parses URLs with the URL global (whatwg-url).
 */
import { loadChunk } from '../chunks.ts';
import { defineLazyGlobal, setName } from '../global/define.ts';

let urlPattern: Function | null = null;

function load(): Function {
  if (urlPattern !== null) return urlPattern;
  urlPattern = loadChunk<{ URLPattern: Function }>('urlpattern').URLPattern;
  setName(urlPattern, 'URLPattern');
  return urlPattern;
}

export function installURLPatternGlobal(): void {
  defineLazyGlobal('URLPattern', load);
}

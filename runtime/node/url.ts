/**
 * `node:url` for workers with the nodejs_compat flag: Node's WHATWG-URL helpers (fileURLToPath,
 * pathToFileURL, domainToASCII, domainToUnicode, urlToHttpOptions, format), the URL and URLSearchParams
 * globals, and the legacy `url.parse` and `Url` (url-legacy.ts), which old npm code still calls; not
 * `url.resolve`. Built as the `node-url` chunk (src/isolates/runtime-bundle.ts); it runs with the
 * worker's own globals, like an npm library.
 */

import { makeLegacyUrl, type LegacyPlatform } from './url-legacy.ts';
import { nodeError } from './node-error.ts';

interface UrlLike {
  protocol: string;
  username: string;
  password: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  href: string;
}

export interface UrlPlatform extends LegacyPlatform {
  URL: new (input: string, base?: string) => UrlLike;
  URLSearchParams: new (init?: unknown) => { toString(): string };
  /** UTS #46 ToUnicode with the URL Standard's options; null when the domain is not valid. */
  toUnicode(domain: string): string | null;
}

export function makeUrl(platform: UrlPlatform): Record<string, unknown> {
  const { URL, URLSearchParams } = platform;
  const isURL = (value: unknown): value is UrlLike => value instanceof URL;

  function fileURLToPath(input: unknown): string {
    let url: UrlLike;
    if (typeof input === 'string') url = new URL(input);
    else if (isURL(input)) url = input;
    else throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "path" argument must be of type string or an instance of URL');
    if (url.protocol !== 'file:') throw nodeError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
    if (url.hostname !== '') throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_HOST', 'File URL host must be "localhost" or empty on linux');
    if (/%2f/i.test(url.pathname)) throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_PATH', 'File URL path must not include encoded / characters');
    return decodeURIComponent(url.pathname);
  }

  /** A worker's working directory is `/`, as for node:path. */
  function pathToFileURL(path: unknown): UrlLike {
    if (typeof path !== 'string') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "path" argument must be of type string');
    const absolute = path.startsWith('/') ? path : `/${path}`;
    const url = new URL('file:///');
    // What the URL parser would take as something else, or drop: %, \, and the C0 controls it strips.
    url.pathname = absolute.replace(/[%\\\n\r\t]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return url;
  }

  function domainToASCII(domain: unknown): string {
    // A domain, not a URL's authority: what would end or split the host makes it not one.
    if (/[/?#@:\\\s%[\]]/.test(String(domain))) return '';
    try {
      return new URL(`ws://${String(domain)}`).hostname;
    } catch {
      return '';
    }
  }

  function domainToUnicode(domain: unknown): string {
    const ascii = domainToASCII(domain);
    return ascii === '' ? '' : (platform.toUnicode(ascii) ?? '');
  }

  function urlToHttpOptions(url: UrlLike): Record<string, unknown> {
    const options: Record<string, unknown> = {
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      hash: url.hash,
      search: url.search,
      pathname: url.pathname,
      path: `${url.pathname}${url.search}`,
      href: url.href,
    };
    if (url.port !== '') options.port = Number(url.port);
    if (url.username !== '' || url.password !== '') options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    return options;
  }

  /** Node's url.format: a URL with options (auth, fragment, search, unicode), or a legacy URL object. */
  function format(input: unknown, options?: { auth?: boolean; fragment?: boolean; search?: boolean; unicode?: boolean }): string {
    if (isURL(input)) {
      const { auth = true, fragment = true, search = true, unicode = false } = options ?? {};
      const credentials = auth && (input.username !== '' || input.password !== '') ? `${input.username}${input.password !== '' ? `:${input.password}` : ''}@` : '';
      const host = unicode ? domainToUnicode(input.hostname) || input.hostname : input.hostname;
      const authority = input.href.startsWith(`${input.protocol}//`) ? `//${credentials}${host}${input.port !== '' ? `:${input.port}` : ''}` : '';
      return `${input.protocol}${authority}${input.pathname}${search ? input.search : ''}${fragment ? input.hash : ''}`;
    }
    if (typeof input === 'string') return legacy.format(legacy.parse(input));
    if (typeof input !== 'object' || input === null) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "urlObject" argument must be one of type object or string');
    return legacy.format(input as Record<string, unknown>);
  }

  const legacy = makeLegacyUrl(platform);

  return { URL, URLSearchParams, fileURLToPath, pathToFileURL, domainToASCII, domainToUnicode, urlToHttpOptions, format, parse: legacy.parse, Url: legacy.Url };
}

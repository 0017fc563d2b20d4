/**
 * node:url's legacy API: `url.parse()`, the `Url` class and `url.format()` of a legacy object, with
 * the results of Node's own (deprecated) parser, since code written against it depends on them: no
 * normalisation beyond what it does, backslashes before the query read as slashes, the host cut at the
 * first character a hostname cannot hold (the rest moved into the path), hostnames lower-cased and
 * made ASCII (IDNA), some characters always escaped, `javascript:` left alone. The WHATWG `URL` is the
 * parser to use; this exists for old npm code. Part of the `node-url` chunk (url.ts);
 * test/e2e/node-builtins.test.ts compares it with Node's on generated inputs.
 */

export interface LegacyPlatform {
  /** node:querystring's parse and stringify. */
  parseQuery(text: string): object;
  stringifyQuery(query: object): string;
  /** node:querystring's escape (Node's percent-encoder, surrogate pairing included). */
  escape(text: string): string;
  /** UTS #46 ToASCII, as the URL Standard runs it; '' when the domain is not valid. */
  toASCII(domain: string): string;
}

/** Protocols whose URLs always have a `//` and a host. */
const SLASHED = new Set(['http', 'http:', 'https', 'https:', 'ftp', 'ftp:', 'gopher', 'gopher:', 'file', 'file:', 'ws', 'ws:', 'wss', 'wss:']);
/** Protocols that never have a host. */
const HOSTLESS = new Set(['javascript', 'javascript:']);
/** Protocols whose rest is left unescaped. */
const UNSAFE = new Set(['javascript', 'javascript:']);

const PROTOCOL = /^[a-z0-9.+-]+:/i;
const PORT = /:[0-9]*$/;
const HOST_START = /^\/\/[^@/]+@[^@/]+/;
/** A path with nothing to split or decode: the fast path. */
const SIMPLE_PATH = /^(\/\/?(?!\/)[^?\s]*)(\?[^\s]*)?$/;
const MAX_HOSTNAME = 255;
const FORBIDDEN_HOST = /[\0\t\n\r #%/:<>?@[\\\]^|]/;
const FORBIDDEN_HOST_IPV6 = /[\0\t\n\r #%/<>?@\\^|]/;

/** Characters always escaped in what follows the host (unless the protocol is unsafe). */
const AUTO_ESCAPE: Record<string, string> = { '\t': '%09', '\n': '%0A', '\r': '%0D', ' ': '%20', '"': '%22', "'": '%27', '<': '%3C', '>': '%3E', '\\': '%5C', '^': '%5E', '`': '%60', '{': '%7B', '|': '%7C', '}': '%7D' };
const AUTO_ESCAPED = /[\t\n\r "'<>\\^`{|}]/g;

const isIpv6Hostname = (hostname: string) => hostname.startsWith('[') && hostname.endsWith(']');

/** Whitespace the parser trims from both ends: the C0 controls and space, NBSP and the BOM. */
const isTrimmed = (code: number) => code < 33 || code === 0xa0 || code === 0xfeff;

function invalidUrl(input: string): TypeError {
  return Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL', input });
}

export class Url {
  protocol: string | null = null;
  slashes: boolean | null = null;
  auth: string | null = null;
  host: string | null = null;
  port: string | null = null;
  hostname: string | null = null;
  hash: string | null = null;
  search: string | null = null;
  query: string | object | null = null;
  pathname: string | null = null;
  path: string | null = null;
  href: string | null = null;
}

export function makeLegacyUrl(platform: LegacyPlatform) {
  function parse(input: unknown, parseQueryString?: unknown, slashesDenoteHost?: unknown): Url {
    if (input instanceof Url) return input;
    if (typeof input !== 'string') {
      throw Object.assign(new TypeError(`The "url" argument must be of type string. Received ${input === null ? 'null' : typeof input}`), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const url = new Url();
    parseInto(url, input, Boolean(parseQueryString), Boolean(slashesDenoteHost));
    return url;
  }

  function parseInto(self: Url, input: string, parseQueryString: boolean, slashesDenoteHost: boolean): void {
    // Trim, and turn backslashes into slashes up to the first '?' or '#', as browsers do.
    let hasHash = false;
    let hasAt = false;
    let first = 0;
    while (first < input.length && isTrimmed(input.charCodeAt(first))) first++;
    let last = input.length;
    while (last > first && isTrimmed(input.charCodeAt(last - 1))) last--;
    let rest = '';
    let split = false;
    for (let i = first; i < last; i++) {
      const c = input[i]!;
      if (!split) {
        if (c === '@') hasAt = true;
        else if (c === '#' || c === '?') {
          split = true;
          if (c === '#') hasHash = true;
        }
        rest += c === '\\' ? '/' : c;
      } else {
        if (c === '#') hasHash = true;
        rest += c;
      }
    }

    if (!slashesDenoteHost && !hasHash && !hasAt) {
      const simple = SIMPLE_PATH.exec(rest);
      if (simple) {
        self.path = rest;
        self.href = rest;
        self.pathname = simple[1]!;
        if (simple[2]) {
          self.search = simple[2];
          self.query = parseQueryString ? platform.parseQuery(self.search.slice(1)) : self.search.slice(1);
        } else if (parseQueryString) {
          self.search = null;
          self.query = Object.create(null) as object;
        }
        return;
      }
    }

    const protocolMatch = PROTOCOL.exec(rest);
    let protocol: string | undefined;
    if (protocolMatch) {
      protocol = protocolMatch[0].toLowerCase();
      self.protocol = protocol;
      rest = rest.slice(protocolMatch[0].length);
    }

    // user@server is always a host, and `//host/path` too when asked (or with a protocol).
    let slashes = false;
    if (slashesDenoteHost || protocolMatch || HOST_START.test(rest)) {
      slashes = rest.startsWith('//');
      if (slashes && !(protocol !== undefined && HOSTLESS.has(protocol))) {
        rest = rest.slice(2);
        self.slashes = true;
      }
    }

    if (!(protocol !== undefined && HOSTLESS.has(protocol)) && (slashes || (protocolMatch && !SLASHED.has(protocolMatch[0])))) {
      // The host ends at the first / ? #; an @ before that ends the auth (the last @ decides), and
      // characters no hostname holds end the host unless an @ comes after them.
      // Tabs and newlines before the first / ? or # are dropped, as the URL Standard drops them.
      const authorityEnd = rest.search(/[#/?]/);
      const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
      if (/[\t\n\r]/.test(authority)) rest = authority.replace(/[\t\n\r]/g, '') + (authorityEnd === -1 ? '' : rest.slice(authorityEnd));
      let hostEnd = -1;
      let atSign = -1;
      let nonHost = -1;
      for (let i = 0; i < rest.length && hostEnd === -1; i++) {
        const c = rest[i]!;
        if (' "%\';<>\\^`{|}'.includes(c)) {
          if (nonHost === -1) nonHost = i;
        } else if (c === '#' || c === '/' || c === '?') {
          if (nonHost === -1) nonHost = i;
          hostEnd = i;
        } else if (c === '@') {
          atSign = i;
          nonHost = -1;
        }
      }
      let start = 0;
      if (atSign !== -1) {
        self.auth = decodeURIComponent(rest.slice(0, atSign));
        start = atSign + 1;
      }
      if (nonHost === -1) {
        self.host = rest.slice(start);
        rest = '';
      } else {
        self.host = rest.slice(start, nonHost);
        rest = rest.slice(nonHost);
      }
      parseHost(self);
      if (typeof self.hostname !== 'string') self.hostname = '';
      const ipv6 = isIpv6Hostname(self.hostname);
      if (!ipv6) {
        // A character that cannot be in a hostname ends it; what follows goes to the path.
        const hostname = self.hostname;
        for (let i = 0; i < hostname.length; i++) {
          if ('/\\#?:'.includes(hostname[i]!)) {
            self.hostname = hostname.slice(0, i);
            rest = `/${hostname.slice(i)}${rest}`;
            break;
          }
        }
      }
      self.hostname = self.hostname.length > MAX_HOSTNAME ? '' : self.hostname.toLowerCase();
      if (self.hostname !== '') {
        if (ipv6) {
          if (FORBIDDEN_HOST_IPV6.test(self.hostname)) throw invalidUrl(input);
        } else {
          self.hostname = platform.toASCII(self.hostname);
          // Empty or holding a forbidden character only through ToASCII: a spoofing attempt.
          if (self.hostname === '' || FORBIDDEN_HOST.test(self.hostname)) throw invalidUrl(input);
        }
      }
      self.host = (self.hostname || '') + (self.port ? `:${self.port}` : '');
      if (ipv6) {
        self.hostname = self.hostname.slice(1, -1);
        if (!rest.startsWith('/')) rest = `/${rest}`;
      }
    }

    if (!(protocol !== undefined && UNSAFE.has(protocol))) rest = rest.replace(AUTO_ESCAPED, (c) => AUTO_ESCAPE[c]!);

    const hashAt = rest.indexOf('#');
    const beforeHash = hashAt === -1 ? rest : rest.slice(0, hashAt);
    if (hashAt !== -1) self.hash = rest.slice(hashAt);
    const questionAt = beforeHash.indexOf('?');
    if (questionAt !== -1) {
      self.search = beforeHash.slice(questionAt);
      self.query = beforeHash.slice(questionAt + 1);
      if (parseQueryString) self.query = platform.parseQuery(self.query);
    } else if (parseQueryString) {
      self.search = null;
      self.query = Object.create(null) as object;
    }
    const pathEnd = questionAt !== -1 ? questionAt : hashAt;
    if (pathEnd === -1) {
      if (rest.length > 0) self.pathname = rest;
    } else if (pathEnd > 0) {
      self.pathname = rest.slice(0, pathEnd);
    }
    if (protocol !== undefined && SLASHED.has(protocol) && self.hostname && !self.pathname) self.pathname = '/';
    if (self.pathname || self.search) self.path = (self.pathname || '') + (self.search || '');
    self.href = format(self);
  }

  /** Splits a trailing `:digits` off the host as the port. */
  function parseHost(self: Url): void {
    let host = self.host!;
    const port = PORT.exec(host);
    if (port) {
      if (port[0] !== ':') self.port = port[0].slice(1);
      host = host.slice(0, host.length - port[0].length);
    }
    if (host) self.hostname = host;
  }

  /** Url.prototype.format: a legacy URL object (or any object with its fields) as a string. */
  function format(object: Record<string, unknown> | Url): string {
    const fields = object as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    let auth = text(fields.auth);
    // Node's escapes, with ':' kept.
    if (auth) auth = `${platform.escape(auth).replace(/%3A/g, ':')}@`;
    let protocol = text(fields.protocol);
    let pathname = text(fields.pathname);
    let hash = text(fields.hash);
    let host = '';
    if (fields.host) {
      host = auth + String(fields.host);
    } else if (fields.hostname) {
      const hostname = String(fields.hostname);
      host = auth + (hostname.includes(':') && !isIpv6Hostname(hostname) ? `[${hostname}]` : hostname);
      if (fields.port) host += `:${String(fields.port)}`;
    }
    const query = fields.query !== null && typeof fields.query === 'object' ? platform.stringifyQuery(fields.query) : '';
    let search = text(fields.search) || (query && `?${query}`) || '';
    if (protocol && !protocol.endsWith(':')) protocol += ':';
    pathname = pathname.replace(/[#?]/g, (c) => (c === '#' ? '%23' : '%3F'));
    if (fields.slashes || SLASHED.has(protocol)) {
      if (fields.slashes || host) {
        if (pathname && !pathname.startsWith('/')) pathname = `/${pathname}`;
        host = `//${host}`;
      } else if (protocol.startsWith('file')) {
        host = '//';
      }
    }
    search = search.replace(/#/g, '%23');
    if (hash && !hash.startsWith('#')) hash = `#${hash}`;
    if (search && !search.startsWith('?')) search = `?${search}`;
    return protocol + host + pathname + search + hash;
  }

  // Node's Url has these as methods too: `url.parse(x).format()`, `new Url().parse(x)`.
  const methods = Url.prototype as unknown as Record<string, unknown>;
  methods.parse = function (this: Url, input: unknown, parseQueryString?: unknown, slashesDenoteHost?: unknown): Url {
    if (typeof input !== 'string') parse(input);
    parseInto(this, input as string, Boolean(parseQueryString), Boolean(slashesDenoteHost));
    return this;
  };
  methods.format = function (this: Url): string {
    return format(this);
  };
  methods.parseHost = function (this: Url): void {
    parseHost(this);
  };

  return { parse, format, Url };
}

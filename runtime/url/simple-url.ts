/**
 * The URL parser's fast path: an absolute http, https, ws or wss URL that is already in the form the
 * parser would give back becomes its record by slicing, and so does a path-absolute reference ("/a?b")
 * against a base of one of those schemes (`new URL('/login', request.url)`). Anything else (another
 * relative reference, userinfo, an IPv6 address, an IPv4 address not written as four plain decimal
 * numbers, an IDN host, a default or malformed port, dot segments, a character the parser would
 * percent-encode or strip, upper case it would lower) returns null, and whatwg-url's state machine
 * parses it as before.
 *
 * Why: whatwg-url walks the input code point by code point, ~30 µs for `new URL(request.url)` in an
 * isolate, more than the rest of a hello-world request; most Workers code parses the request's URL on
 * every request. test/runtime/simple-url.test.ts checks that every input taken here parses to the same
 * record through whatwg-url.
 *
 * Why the accepted forms are exact (https://url.spec.whatwg.org/#concept-basic-url-parser): with
 * "scheme://" the base URL is never consulted; a host of ASCII letters, digits, hyphens and dots, with no
 * empty label, no "xn--" label and a last label that is not a number, is a domain that domain-to-ASCII
 * leaves as it is (see tr46-lazy.ts) and the IPv4 parser is never tried; a host of four decimal numbers
 * from 0 to 255 without leading zeros is the address the IPv4 parser makes of it, which serializes back
 * to the same four numbers (an outbound fetch to an internal service is often addressed so); the path,
 * query and fragment characters allowed below are in none of their percent-encode sets; without "." or
 * ".." segments (also spelt with %2e) the path is its segments.
 */
import { StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeSlice, StringPrototypeToLowerCase } from '../primordials.ts';

/** A URL record as whatwg-url's parser makes it (url.ts's URLRecord), narrowed to the forms parsed here. */
export interface SimpleURLRecord {
  scheme: string;
  username: string;
  password: string;
  /** A domain, or an IPv4 address as the 32-bit number whatwg-url keeps it as. */
  host: string | number;
  port: number | null;
  path: string[];
  query: string | null;
  fragment: string | null;
}

const DEFAULT_PORTS: Record<string, number> = { __proto__: null, http: 80, https: 443, ws: 80, wss: 443 } as never;

const IN_PATH = 1;
const IN_QUERY = 2;
const IN_FRAGMENT = 4;
const IN_HOST = 8;

/** ASCII code → the parts of a URL where it stands for itself (nothing to encode, strip or lower). */
const ALLOWED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,;=:@%/") {
  ALLOWED[c.charCodeAt(0)] = IN_PATH | IN_QUERY | IN_FRAGMENT;
}
ALLOWED["'".charCodeAt(0)] = IN_PATH | IN_FRAGMENT; // in the special-query percent-encode set
ALLOWED['?'.charCodeAt(0)] = IN_QUERY | IN_FRAGMENT;
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-.') ALLOWED[c.charCodeAt(0)]! |= IN_HOST;

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;
const COLON = 0x3a;
const DOT = 0x2e;
const BACKSLASH = 0x5c;

/** Scans `input` from `from` while characters belong to `part`; returns where it stopped. */
function scan(input: string, from: number, part: number): number {
  let i = from;
  for (; i < input.length; i++) {
    const c = StringPrototypeCharCodeAt(input, i);
    if (c >= 128 || (ALLOWED[c]! & part) === 0) break;
  }
  return i;
}

function isDomain(host: string): boolean {
  if (host === '' || StringPrototypeCharCodeAt(host, 0) === DOT || StringPrototypeCharCodeAt(host, host.length - 1) === DOT) return false;
  let start = 0;
  for (;;) {
    const end = StringPrototypeIndexOf(host, '.', start);
    const label = StringPrototypeSlice(host, start, end === -1 ? host.length : end);
    if (label === '' || StringPrototypeSlice(label, 0, 4) === 'xn--') return false;
    if (end === -1) return !endsInANumber(label);
    start = end + 1;
  }
}

/**
 * The IPv4 address of a host written as four decimal numbers from 0 to 255 without leading zeros, as the
 * IPv4 parser makes it; null for any other host (another spelling of an address goes to whatwg-url).
 */
function canonicalIPv4(host: string): number | null {
  let address = 0;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i === host.length ? DOT : StringPrototypeCharCodeAt(host, i);
    if (c === DOT) {
      if (digits === 0 || value > 255 || ++parts > 4) return null;
      address = address * 256 + value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return null; // a leading zero: octal to the IPv4 parser
      value = value * 10 + (c - 0x30);
      if (++digits > 3) return null;
    } else {
      return null;
    }
  }
  return parts === 4 ? address : null;
}

/** https://url.spec.whatwg.org/#concept-host-serializer of a host parseSimpleURL made. */
export function serializeSimpleHost(host: string | number): string {
  if (typeof host === 'string') return host;
  return `${(host / 16777216) | 0}.${((host / 65536) | 0) % 256}.${((host / 256) | 0) % 256}.${host % 256}`;
}

/** The last label would send the host to the IPv4 parser: all digits, or "0x" and hex digits. */
function endsInANumber(label: string): boolean {
  let i = StringPrototypeSlice(label, 0, 2) === '0x' ? 2 : 0;
  const hex = i === 2;
  for (; i < label.length; i++) {
    const c = StringPrototypeCharCodeAt(label, i);
    const digit = c >= 0x30 && c <= 0x39;
    if (!digit && !(hex && c >= 0x61 && c <= 0x66)) return false;
  }
  return true;
}

/** "." and "..", as the path parser recognises them (with %2e in any case). */
function isDotSegment(segment: string): boolean {
  if (segment.length > 6) return false;
  const lower = StringPrototypeToLowerCase(segment);
  return lower === '.' || lower === '..' || lower === '%2e' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e';
}

/** The fields of a URL record parseSimpleURL reads from a base URL (whatwg-url's records have them too). */
export interface BaseURLRecord {
  scheme: string;
  username: string;
  password: string;
  host: unknown;
  port: number | null;
  path: unknown;
}

/**
 * The record whatwg-url's basic URL parser makes of `input` (against `base`, if given), or null when it is
 * not one of the simple forms: an absolute one, or, against a base of one of those schemes without
 * userinfo, a path-absolute reference ("/a/b?q#f", not "//" or "/\\"): the parser's relative slash state
 * then takes the base's userinfo, host and port and parses the rest as in an absolute URL.
 */
export function parseSimpleURL(input: string, base?: BaseURLRecord | null): SimpleURLRecord | null {
  if (base != null && StringPrototypeCharCodeAt(input, 0) === SLASH) return parsePathAbsolute(input, base);
  const schemeEnd = StringPrototypeIndexOf(input, '://');
  if (schemeEnd < 2 || schemeEnd > 5) return null;
  const scheme = StringPrototypeSlice(input, 0, schemeEnd);
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) return null;

  const hostStart = schemeEnd + 3;
  const hostEnd = scan(input, hostStart, IN_HOST);
  const hostText = StringPrototypeSlice(input, hostStart, hostEnd);
  const host = isDomain(hostText) ? hostText : canonicalIPv4(hostText);
  if (host === null) return null;

  let port: number | null = null;
  let at = hostEnd;
  if (at < input.length && StringPrototypeCharCodeAt(input, at) === COLON) {
    let value = 0;
    let digits = 0;
    for (at++; at < input.length; at++, digits++) {
      const c = StringPrototypeCharCodeAt(input, at);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
    }
    if (digits === 0 || digits > 5 || value > 65535) return null;
    port = value === defaultPort ? null : value;
  }
  if (at < input.length) {
    const c = StringPrototypeCharCodeAt(input, at);
    if (c !== SLASH && c !== QUESTION && c !== HASH) return null;
  }
  return withPathQueryFragment(input, at, scheme, host, port);
}

function parsePathAbsolute(input: string, base: BaseURLRecord): SimpleURLRecord | null {
  const second = input.length > 1 ? StringPrototypeCharCodeAt(input, 1) : -1;
  if (second === SLASH || second === BACKSLASH) return null;
  const { scheme, host, port } = base;
  if (DEFAULT_PORTS[scheme] === undefined || base.username !== '' || base.password !== '') return null;
  if (typeof host !== 'string' && typeof host !== 'number') return null;
  return withPathQueryFragment(input, 0, scheme, host, port);
}

/** The "/"-separated segments of `input` from `start` to `end`, or null if one is a dot segment. */
function pathSegments(input: string, start: number, end: number): string[] | null {
  const path: string[] = [];
  for (;;) {
    const slash = StringPrototypeIndexOf(input, '/', start);
    const segmentEnd = slash === -1 || slash > end ? end : slash;
    const segment = StringPrototypeSlice(input, start, segmentEnd);
    if (isDotSegment(segment)) return null;
    path[path.length] = segment;
    if (segmentEnd === end) return path;
    start = segmentEnd + 1;
  }
}

/** The record of `input`'s path, query and fragment from `at` (a "/", "?", "#" or the end), or null. */
function withPathQueryFragment(input: string, at: number, scheme: string, host: string | number, port: number | null): SimpleURLRecord | null {
  const pathEnd = scan(input, at, IN_PATH);
  let path: string[] | null;
  if (pathEnd === at) path = [''];
  else if (StringPrototypeCharCodeAt(input, at) !== SLASH) return null;
  else path = pathSegments(input, at + 1, pathEnd);
  if (path === null) return null;

  let query: string | null = null;
  let fragmentStart = pathEnd;
  if (pathEnd < input.length && StringPrototypeCharCodeAt(input, pathEnd) === QUESTION) {
    const queryEnd = scan(input, pathEnd + 1, IN_QUERY);
    query = StringPrototypeSlice(input, pathEnd + 1, queryEnd);
    fragmentStart = queryEnd;
  }
  let fragment: string | null = null;
  if (fragmentStart < input.length) {
    if (StringPrototypeCharCodeAt(input, fragmentStart) !== HASH) return null;
    const fragmentEnd = scan(input, fragmentStart + 1, IN_FRAGMENT);
    if (fragmentEnd !== input.length) return null;
    fragment = StringPrototypeSlice(input, fragmentStart + 1);
  }
  // The same properties in the same order as whatwg-url's records.
  return { scheme, username: '', password: '', host, port, path, query, fragment };
}

/**
 * A URL setter's parse (the basic URL parser with `url` and a state override, after the setter's own
 * first steps: an emptied path, a query or fragment set to "") applied to a record parseSimpleURL made,
 * when `input` is one of the simple forms for that state: a whole domain or IPv4 address for "hostname",
 * digits for "port", path, query or fragment characters with nothing to encode (and no dot segment) for
 * "path start", "query" and "fragment". Returns false, leaving `url` as it was, for anything else.
 */
export function setSimple(url: SimpleURLRecord, input: string, stateOverride: string): boolean {
  switch (stateOverride) {
    case 'hostname': {
      if (scan(input, 0, IN_HOST) !== input.length) return false;
      const host = isDomain(input) ? input : canonicalIPv4(input);
      if (host === null) return false;
      url.host = host;
      return true;
    }
    case 'port': {
      if (input.length === 0 || input.length > 5) return false;
      let value = 0;
      for (let i = 0; i < input.length; i++) {
        const c = StringPrototypeCharCodeAt(input, i);
        if (c < 0x30 || c > 0x39) return false;
        value = value * 10 + (c - 0x30);
      }
      if (value > 65535) return false;
      url.port = value === DEFAULT_PORTS[url.scheme] ? null : value;
      return true;
    }
    case 'path start': {
      if (scan(input, 0, IN_PATH) !== input.length) return false;
      // The path start state of a special URL takes one leading "/" as the path's own.
      const path = pathSegments(input, input.length > 0 && StringPrototypeCharCodeAt(input, 0) === SLASH ? 1 : 0, input.length);
      if (path === null) return false;
      url.path = path;
      return true;
    }
    case 'query':
      if (scan(input, 0, IN_QUERY) !== input.length) return false;
      url.query = input;
      return true;
    case 'fragment':
      if (scan(input, 0, IN_FRAGMENT) !== input.length) return false;
      url.fragment = input;
      return true;
    default:
      return false;
  }
}

/** https://url.spec.whatwg.org/#concept-url-path-serializer of a record parseSimpleURL made. */
export function serializeSimplePath(url: SimpleURLRecord): string {
  let output = '';
  for (let i = 0; i < url.path.length; i++) output += `/${url.path[i]!}`;
  return output;
}

/** https://url.spec.whatwg.org/#ascii-serialisation-of-an-origin: a tuple origin (special scheme, domain or IPv4 address). */
export function serializeSimpleOrigin(url: SimpleURLRecord): string {
  const host = serializeSimpleHost(url.host);
  return url.port === null ? `${url.scheme}://${host}` : `${url.scheme}://${host}:${url.port}`;
}

/** https://url.spec.whatwg.org/#concept-url-serializer of a record parseSimpleURL made (no userinfo). */
export function serializeSimpleURL(url: SimpleURLRecord, excludeFragment = false): string {
  let output = serializeSimpleOrigin(url) + serializeSimplePath(url);
  if (url.query !== null) output += `?${url.query}`;
  if (!excludeFragment && url.fragment !== null) output += `#${url.fragment}`;
  return output;
}

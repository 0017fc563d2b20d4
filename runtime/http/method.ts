// https://fetch.spec.whatwg.org/#methods
import { StringPrototypeToUpperCase } from '../primordials.ts';
import { isToken, toByteString } from './header-values.ts';

/**
 * Upper-cased whatever their case. The standard (https://fetch.spec.whatwg.org/#concept-method-normalize)
 * names the first six only, but workerd upper-cases every method it knows, so Workers code written
 * `method: 'patch'` works there; sent as written, Node's and most servers' parsers refuse a lower-case
 * method (400).
 */
const NORMALIZED: Record<string, true> = {
  __proto__: null as never,
  DELETE: true,
  GET: true,
  HEAD: true,
  OPTIONS: true,
  POST: true,
  PUT: true,
  PATCH: true,
  PURGE: true,
  COPY: true,
  LOCK: true,
  MKCOL: true,
  MOVE: true,
  PROPFIND: true,
  PROPPATCH: true,
  SEARCH: true,
  UNLOCK: true,
  ACL: true,
  REPORT: true,
  MKACTIVITY: true,
  CHECKOUT: true,
  MERGE: true,
  NOTIFY: true,
  SUBSCRIBE: true,
  UNSUBSCRIBE: true,
  QUERY: true,
};

// https://fetch.spec.whatwg.org/#forbidden-method
const FORBIDDEN: Record<string, true> = { __proto__: null as never, CONNECT: true, TRACE: true, TRACK: true };

/** Request's init.method: a token, not forbidden, normalised; else TypeError. */
export function toRequestMethod(value: unknown): string {
  const method = toByteString(value, 'Method');
  if (!isToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = StringPrototypeToUpperCase(method);
  if (FORBIDDEN[upper] === true) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return NORMALIZED[upper] === true ? upper : method;
}

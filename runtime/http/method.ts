// https://fetch.spec.whatwg.org/#methods
import { StringPrototypeToUpperCase } from '../primordials.ts';
import { isToken, toByteString } from './header-values.ts';

// https://fetch.spec.whatwg.org/#concept-method-normalize: only these are upper-cased.
const NORMALIZED: Record<string, string> = {
  __proto__: null as never,
  DELETE: 'DELETE',
  GET: 'GET',
  HEAD: 'HEAD',
  OPTIONS: 'OPTIONS',
  POST: 'POST',
  PUT: 'PUT',
};

// https://fetch.spec.whatwg.org/#forbidden-method
const FORBIDDEN: Record<string, true> = { __proto__: null as never, CONNECT: true, TRACE: true, TRACK: true };

/** Request's init.method: a token, not forbidden, normalised; else TypeError. */
export function toRequestMethod(value: unknown): string {
  const method = toByteString(value, 'Method');
  if (!isToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = StringPrototypeToUpperCase(method);
  if (FORBIDDEN[upper] === true) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return NORMALIZED[upper] ?? method;
}

/** The per-case checks, as source run inside the isolate (see run-cases.ts). */

// url/resources/urltestdata.json: parse (with base), compare every component.
export const URL_PARSING = `(c) => {
  let url;
  try { url = c.base === null || c.base === undefined ? new URL(c.input) : new URL(c.input, c.base); }
  catch (error) { return c.failure ? null : 'threw ' + error.message; }
  if (c.failure) return 'parsed but should fail: ' + url.href;
  for (const key of ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash']) {
    if (url[key] !== c[key]) return key + ': ' + JSON.stringify(url[key]) + ' != ' + JSON.stringify(c[key]);
  }
  if ('origin' in c && url.origin !== c.origin) return 'origin: ' + url.origin + ' != ' + c.origin;
  if (c.searchParams !== undefined && url.searchParams.toString() !== c.searchParams) return 'searchParams';
  return null;
}`;

// url/resources/setters_tests.json: set one attribute, compare the expected components.
export const URL_SETTERS = `(c) => {
  const url = new URL(c.href);
  url[c.setter] = c.new_value;
  for (const [key, value] of Object.entries(c.expected)) {
    if (url[key] !== value) return key + ': ' + JSON.stringify(url[key]) + ' != ' + JSON.stringify(value);
  }
  return null;
}`;

// url/resources/toascii.json: the host of a URL built from the input, or a failure.
export const URL_TOASCII = `(c) => {
  let url;
  try { url = new URL('https://' + c.input + '/x'); }
  catch { return c.output === null ? null : 'threw'; }
  if (c.output === null) return 'parsed but should fail: ' + url.host;
  return url.host === c.output ? null : url.host + ' != ' + c.output;
}`;

// fetch/data-urls/resources/base64.json: [input, bytes or null] through atob (forgiving-base64 decode).
export const ATOB = `([input, bytes]) => {
  let decoded;
  try { decoded = atob(input); }
  catch (error) { return bytes === null ? (error.name === 'InvalidCharacterError' ? null : 'wrong error ' + error.name) : 'threw ' + error.name; }
  if (bytes === null) return 'decoded but should fail';
  const got = [...decoded].map((ch) => ch.charCodeAt(0));
  return JSON.stringify(got) === JSON.stringify(bytes) ? null : JSON.stringify(got) + ' != ' + JSON.stringify(bytes);
}`;

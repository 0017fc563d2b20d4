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

// urlpattern/resources/urlpatterntestdata.json: construct, compare the given component patterns, then
// exec()/test() the inputs and compare the given components' input and groups. Components an entry
// does not name are not checked (WPT's harness derives their defaults from the base URL).
export const URL_PATTERN = `(c) => {
  const COMPONENTS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash'];
  let pattern;
  try { pattern = new URLPattern(...c.pattern); }
  catch (error) { return c.expected_obj === 'error' ? (error instanceof TypeError ? null : 'wrong error ' + error.name) : 'constructor threw ' + error.message; }
  if (c.expected_obj === 'error') return 'constructed but should throw';
  for (const key of COMPONENTS) {
    if (c.expected_obj && key in c.expected_obj && pattern[key] !== c.expected_obj[key]) return key + ': ' + JSON.stringify(pattern[key]) + ' != ' + JSON.stringify(c.expected_obj[key]);
  }
  const inputs = c.inputs ?? [];
  let result;
  let tested;
  try { result = pattern.exec(...inputs); tested = pattern.test(...inputs); }
  catch (error) { return c.expected_match === 'error' ? (error instanceof TypeError ? null : 'wrong error ' + error.name) : 'exec threw ' + error.message; }
  if (c.expected_match === 'error') return 'exec should throw';
  if (c.expected_match === null || c.expected_match === undefined) return result === null && tested === false ? null : 'matched but should not';
  if (result === null || tested !== true) return 'did not match';
  for (const key of COMPONENTS) {
    const want = c.expected_match[key];
    if (!want) continue;
    const got = result[key];
    if (got.input !== want.input) return key + '.input: ' + JSON.stringify(got.input) + ' != ' + JSON.stringify(want.input);
    if (JSON.stringify(got.groups) !== JSON.stringify(want.groups)) return key + '.groups: ' + JSON.stringify(got.groups) + ' != ' + JSON.stringify(want.groups);
  }
  return null;
}`;

// fetch/data-urls/resources/data-urls.json: [input, mimeType, body] or [input, null], through fetch() as
// WPT's fetch/data-urls/processing.any.js does: the body's bytes and the Content-Type ("" stands for
// text/plain;charset=US-ASCII); null: fetch() rejects with a TypeError.
export const DATA_URL_FETCH = `async ([input, mimeType, body]) => {
  let response;
  try { response = await fetch(input); }
  catch (error) { return mimeType === null ? (error instanceof TypeError ? null : 'wrong error ' + error.name) : 'rejected: ' + error.message; }
  if (mimeType === null) return 'fetched but should reject';
  const got = [...new Uint8Array(await response.arrayBuffer())];
  if (JSON.stringify(got) !== JSON.stringify(body)) return 'body ' + JSON.stringify(got) + ' != ' + JSON.stringify(body);
  const type = response.headers.get('content-type');
  const expected = mimeType === '' ? 'text/plain;charset=US-ASCII' : mimeType;
  if (type !== expected) return 'content-type ' + JSON.stringify(type) + ' != ' + JSON.stringify(expected);
  if (response.status !== 200 || response.statusText !== 'OK') return 'status ' + response.status + ' ' + response.statusText;
  return null;
}`;

// fetch/data-urls/resources/base64.json: [input, bytes or null] through fetch('data:;base64,' + input), as
// WPT's fetch/data-urls/base64.any.js does; null: fetch() rejects with a TypeError.
export const DATA_URL_BASE64 = `async ([input, bytes]) => {
  let response;
  try { response = await fetch('data:;base64,' + input); }
  catch (error) { return bytes === null ? (error instanceof TypeError ? null : 'wrong error ' + error.name) : 'rejected: ' + error.message; }
  if (bytes === null) return 'fetched but should reject';
  const got = [...new Uint8Array(await response.arrayBuffer())];
  return JSON.stringify(got) === JSON.stringify(bytes) ? null : JSON.stringify(got) + ' != ' + JSON.stringify(bytes);
}`;

// mimesniff/mime-types/resources/{mime-types,generated-mime-types}.json, as WPT's
// mimesniff/mime-types/parsing.any.js does it, in two parts. Expected: the output, or '' for null.
// Blob/File: the type given to new Blob() and new File().
export const MIME_BLOB = `(c) => {
  const output = c.output === null ? '' : c.output;
  const blob = new Blob([], { type: c.input }).type;
  if (blob !== output) return 'Blob ' + JSON.stringify(blob) + ' != ' + JSON.stringify(output);
  const file = new File([], 'noname', { type: c.input }).type;
  if (file !== output) return 'File ' + JSON.stringify(file) + ' != ' + JSON.stringify(output);
  return null;
}`;

// Request/Response: the input as Content-Type, then blob()'s type. As parsing.any.js: an input with leading
// or trailing HTTP whitespace is skipped (header value normalisation would change it); one that is not a
// valid header value (above U+00FF, or NUL, LF, CR) must make both constructors throw a TypeError.
export const MIME_BODY = `async (c) => {
  const output = c.output === null ? '' : c.output;
  const str = c.input;
  let compatible = 'compatible';
  if (/^[\\u0009\\u0020\\u000A\\u000D]+|[\\u0009\\u0020\\u000A\\u000D]+$/.test(str)) return null;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    if (code > 0xff) { compatible = 'incompatible'; break; }
    if (code === 0x00 || code === 0x0a || code === 0x0d) { compatible = 'header-value-error'; break; }
  }
  const headers = [['Content-Type', str]];
  if (compatible !== 'compatible') {
    for (const make of [() => new Request('about:blank', { headers }), () => new Response(null, { headers })]) {
      try { make(); } catch (error) { if (error instanceof TypeError) continue; return 'wrong error ' + error.name; }
      return 'constructed with an invalid header value';
    }
    return null;
  }
  const request = (await new Request('about:blank', { headers }).blob()).type;
  if (request !== output) return 'Request ' + JSON.stringify(request) + ' != ' + JSON.stringify(output);
  const response = (await new Response(null, { headers }).blob()).type;
  if (response !== output) return 'Response ' + JSON.stringify(response) + ' != ' + JSON.stringify(output);
  return null;
}`;

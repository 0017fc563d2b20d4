/**
 * `node:querystring` for workers with the nodejs_compat flag: Node's query-string parser and
 * serialiser (`parse`/`decode`, `stringify`/`encode`, `escape`, `unescape`, `unescapeBuffer`), with
 * Node's results: a parsed object has no prototype, repeated keys give arrays, `+` is a space, a bad
 * percent escape stays as it is, and only the first `maxKeys` (1000) pieces count. Built as the
 * `node-querystring` chunk (src/isolates/runtime-bundle.ts); it runs with the worker's own globals,
 * like an npm library. test/e2e/node-builtins.test.ts compares it with Node's on generated inputs.
 */

export interface QuerystringPlatform {
  /** node:buffer's Buffer, for `unescapeBuffer`. */
  Buffer: { from(bytes: Uint8Array): Uint8Array };
  /** UTF-8 bytes as text, errors replaced and a BOM kept, as Buffer's toString does. */
  decodeUtf8(bytes: Uint8Array): string;
}

type Decode = (text: string) => string;
type Encode = (text: string) => string;

/** 1 for the ASCII characters escape leaves as they are: letters, digits and - _ . ! ~ * ' ( ). */
const UNRESERVED = new Uint8Array(0x80);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") UNRESERVED[c.charCodeAt(0)] = 1;

const BYTE_ESCAPES: string[] = [];
for (let byte = 0; byte < 0x100; byte++) BYTE_ESCAPES.push(`%${byte < 0x10 ? '0' : ''}${byte.toString(16).toUpperCase()}`);

/** The %XX escapes of code point `code`'s UTF-8 bytes (code >= 0x80). */
function utf8Escapes(code: number): string {
  if (code < 0x800) return BYTE_ESCAPES[0xc0 | (code >> 6)]! + BYTE_ESCAPES[0x80 | (code & 0x3f)]!;
  if (code < 0x10000) return BYTE_ESCAPES[0xe0 | (code >> 12)]! + BYTE_ESCAPES[0x80 | ((code >> 6) & 0x3f)]! + BYTE_ESCAPES[0x80 | (code & 0x3f)]!;
  return BYTE_ESCAPES[0xf0 | (code >> 18)]! + BYTE_ESCAPES[0x80 | ((code >> 12) & 0x3f)]! + BYTE_ESCAPES[0x80 | ((code >> 6) & 0x3f)]! + BYTE_ESCAPES[0x80 | (code & 0x3f)]!;
}

/** An ASCII hex digit's value, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

const isHexDigit = (code: number) => hexValue(code) !== -1;

/**
 * `text`'s bytes with its `%XX` escapes decoded and, with `decodeSpaces`, `+` as a space. Other
 * characters give the low byte of their UTF-16 code unit, as Node's does.
 */
function percentDecodeBytes(text: string, decodeSpaces: boolean): Uint8Array {
  const out = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2b && decodeSpaces) {
      out[length++] = 0x20;
      continue;
    }
    // A '%' with two hex digits after it; an escape cut short by the end of the text stays as it is.
    if (code === 0x25 && i < text.length - 2) {
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high !== -1 && low !== -1) {
        out[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[length++] = code & 0xff;
  }
  return out.subarray(0, length);
}

function uriMalformed(): URIError {
  return Object.assign(new URIError('URI malformed'), { code: 'ERR_INVALID_URI' });
}

export function makeQuerystring(platform: QuerystringPlatform): Record<string, unknown> {
  function unescapeBuffer(text: unknown, decodeSpaces?: unknown): Uint8Array {
    return platform.Buffer.from(percentDecodeBytes(`${text as string}`, Boolean(decodeSpaces)));
  }

  /** decodeURIComponent, or byte by byte when the text is not a valid escape of UTF-8. */
  function unescape(text: string, decodeSpaces?: boolean): string {
    try {
      return decodeURIComponent(text);
    } catch {
      return platform.decodeUtf8(percentDecodeBytes(`${text}`, Boolean(decodeSpaces)));
    }
  }

  /**
   * Percent-encodes the UTF-8 of all but letters, digits and - _ . ! ~ * ' ( ), as encodeURIComponent
   * does, except in Node's one way: a surrogate takes the code unit after it as its pair, whatever that
   * is, and only one at the very end is an error.
   */
  function escape(input: unknown): string {
    const text = typeof input === 'string' ? input : typeof input === 'object' ? String(input) : (input as string) + '';
    let out = '';
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code < 0x80) {
        out += UNRESERVED[code] === 1 ? text[i] : BYTE_ESCAPES[code];
        continue;
      }
      if (code >= 0xd800 && code < 0xe000) {
        if (++i >= text.length) throw uriMalformed();
        code = 0x10000 + (((code & 0x3ff) << 10) | (text.charCodeAt(i) & 0x3ff));
      }
      out += utf8Escapes(code);
    }
    return out;
  }

  /**
   * Node's scanner, quirks included, since code written against Node sees them: a key or value is
   * decoded only once a '+' or a %XX escape was seen in it (a custom decoder gets every non-empty one,
   * its '+' as %20), and the one escape check runs across the key into the value, so an escape late in
   * a key can mark the value for decoding too. Empty pieces are skipped but count towards maxKeys.
   */
  function parse(query: unknown, sep?: unknown, eq?: unknown, options?: { maxKeys?: unknown; decodeURIComponent?: unknown }): Record<string, string | string[]> {
    const result: Record<string, string | string[]> = Object.create(null);
    if (typeof query !== 'string' || query.length === 0) return result;
    const separator = sep ? String(sep) : '&';
    const equals = eq ? String(eq) : '=';
    // -1: no bound (it never counts down to 0).
    let pairsLeft = typeof options?.maxKeys === 'number' ? (options.maxKeys > 0 ? options.maxKeys : -1) : 1000;
    const custom = typeof options?.decodeURIComponent === 'function' ? (options.decodeURIComponent as Decode) : null;
    const decode = (text: string): string => {
      if (custom === null) return unescape(text);
      try {
        return custom(text);
      } catch {
        return unescape(text, true);
      }
    };
    const add = (key: string, value: string, keyEscaped: boolean, valueEscaped: boolean) => {
      if (key.length > 0 && keyEscaped) key = decode(key);
      if (value.length > 0 && valueEscaped) value = decode(value);
      const existing = result[key];
      if (existing === undefined) result[key] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else result[key] = [existing, value];
    };
    const space = custom === null ? ' ' : '%20';
    let key = '';
    let value = '';
    let start = 0;
    let sepMatched = 0;
    let eqMatched = 0;
    let keyEscaped = custom !== null;
    let valueEscaped = custom !== null;
    // 1 after a '%', 2 after '%' and a hex digit, 3 (a whole escape) and on after two.
    let escapeProgress = 0;
    for (let i = 0; i < query.length; i++) {
      const code = query.charCodeAt(i);
      if (code === separator.charCodeAt(sepMatched)) {
        if (++sepMatched < separator.length) continue;
        const end = i - sepMatched + 1;
        if (eqMatched < equals.length) {
          if (start < end) key += query.slice(start, end);
          else if (key.length === 0) {
            // An empty piece: nothing to add, but it counts.
            if (--pairsLeft === 0) return result;
            start = i + 1;
            sepMatched = eqMatched = 0;
            continue;
          }
        } else if (start < end) {
          value += query.slice(start, end);
        }
        add(key, value, keyEscaped, valueEscaped);
        if (--pairsLeft === 0) return result;
        keyEscaped = valueEscaped = custom !== null;
        key = value = '';
        escapeProgress = 0;
        start = i + 1;
        sepMatched = eqMatched = 0;
        continue;
      }
      sepMatched = 0;
      if (eqMatched < equals.length) {
        if (code === equals.charCodeAt(eqMatched)) {
          if (++eqMatched === equals.length) {
            const end = i - eqMatched + 1;
            if (start < end) key += query.slice(start, end);
            escapeProgress = 0;
            start = i + 1;
          }
          continue;
        }
        eqMatched = 0;
        if (!keyEscaped) {
          if (code === 0x25) {
            escapeProgress = 1;
            continue;
          }
          if (escapeProgress > 0) {
            if (isHexDigit(code)) {
              if (++escapeProgress === 3) keyEscaped = true;
              continue;
            }
            escapeProgress = 0;
          }
        }
        if (code === 0x2b) {
          if (start < i) key += query.slice(start, i);
          key += space;
          start = i + 1;
          continue;
        }
      }
      if (code === 0x2b) {
        if (start < i) value += query.slice(start, i);
        value += space;
        start = i + 1;
      } else if (!valueEscaped) {
        if (code === 0x25) escapeProgress = 1;
        else if (escapeProgress > 0) {
          if (!isHexDigit(code)) escapeProgress = 0;
          else if (++escapeProgress === 3) valueEscaped = true;
        }
      }
    }
    if (start < query.length) {
      if (eqMatched < equals.length) key += query.slice(start);
      else value += query.slice(start);
    } else if (eqMatched === 0 && key.length === 0) {
      return result;
    }
    add(key, value, keyEscaped, valueEscaped);
    return result;
  }

  /** A value as the query string writes it: strings, finite numbers, bigints and booleans; else ''. */
  function primitiveText(value: unknown): string {
    if (typeof value === 'string') return value;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return `${value}`;
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    return '';
  }

  function stringify(object: unknown, sep?: unknown, eq?: unknown, options?: { encodeURIComponent?: unknown }): string {
    if (object === null || typeof object !== 'object') return '';
    const separator = (sep || '&') as string;
    const equals = (eq || '=') as string;
    const custom = typeof options?.encodeURIComponent === 'function' ? (options.encodeURIComponent as Encode) : null;
    const encode = (value: unknown): string => {
      if (custom !== null) return custom(primitiveText(value));
      // Numbers from 1e21 on are written with an exponent whose '+' needs escaping.
      if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e21) return `${value}`;
      const text = primitiveText(value);
      return text.length === 0 || typeof value === 'bigint' || typeof value === 'boolean' ? text : escape(text);
    };
    const fields: string[] = [];
    for (const key of Object.keys(object)) {
      const value = (object as Record<string, unknown>)[key];
      const prefix = encode(key) + equals;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) fields.push(prefix + encode(value[i]));
      } else {
        fields.push(prefix + encode(value));
      }
    }
    return fields.join(separator);
  }

  // In Node's order of keys.
  return { unescapeBuffer, unescape, escape, stringify, encode: stringify, parse, decode: parse };
}

/**
 * The Fetch Standard's "extract a MIME type" (https://fetch.spec.whatwg.org/#concept-header-extract-mime-type)
 * from a header list: the Content-Type values are split on commas outside quoted strings, and the last
 * one that parses wins, keeping an earlier charset when the essence did not change.
 */
import type { HeaderList } from '../host.d.ts';
import { StringPrototypeCharCodeAt, StringPrototypeSlice } from '../primordials.ts';
import { type MimeType, collectHttpQuotedString, essenceOf, getParameter, isHttpTabOrSpace, parseMimeType, serializeMimeType, setParameter, trim } from './mime-type.ts';

// https://fetch.spec.whatwg.org/#header-value-get-decode-and-split: `value` is the combined value
// (https://fetch.spec.whatwg.org/#concept-header-list-get), already isomorphic-decoded (a ByteString).
export function splitHeaderValue(value: string): string[] {
  const values: string[] = [];
  let position = 0;
  let temporary = '';
  for (;;) {
    // Up to '"' or ','.
    let end = position;
    while (end < value.length) {
      const c = StringPrototypeCharCodeAt(value, end);
      if (c === 0x22 || c === 0x2c) break;
      end++;
    }
    temporary += StringPrototypeSlice(value, position, end);
    position = end;
    if (position < value.length && StringPrototypeCharCodeAt(value, position) === 0x22) {
      const quoted = collectHttpQuotedString(value, position, false);
      temporary += quoted.value;
      position = quoted.position;
      if (position < value.length) continue;
    }
    values[values.length] = trim(temporary, isHttpTabOrSpace);
    temporary = '';
    if (position >= value.length) return values;
    // value[position] is ','.
    position++;
  }
}

/** All Content-Type values of `list` (lower-case names), combined with ", ", or null when there is none. */
function contentTypeOf(list: HeaderList): string | null {
  let value: string | null = null;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== 'content-type') continue;
    value = value === null ? list[i + 1]! : value + ', ' + list[i + 1]!;
  }
  return value;
}

// https://fetch.spec.whatwg.org/#concept-header-extract-mime-type
export function extractMimeType(list: HeaderList): MimeType | null {
  return extractMimeTypeFromValue(contentTypeOf(list));
}

/** The same, from the header list's combined Content-Type value (null when there is none). */
export function extractMimeTypeFromValue(combined: string | null): MimeType | null {
  if (combined === null) return null;
  const values = splitHeaderValue(combined);
  let charset: string | null = null;
  let essence: string | null = null;
  let mimeType: MimeType | null = null;
  for (let i = 0; i < values.length; i++) {
    const temporary = parseMimeType(values[i]!);
    if (temporary === null || essenceOf(temporary) === '*/*') continue;
    mimeType = temporary;
    const temporaryEssence = essenceOf(mimeType);
    if (temporaryEssence !== essence) {
      charset = getParameter(mimeType, 'charset');
      essence = temporaryEssence;
    } else if (getParameter(mimeType, 'charset') === null && charset !== null) {
      setParameter(mimeType, 'charset', charset);
    }
  }
  return mimeType;
}

/**
 * The MIME type extracted from a combined Content-Type value, serialized, or '' on failure: the type of
 * the Blob Body's blob() makes (https://fetch.spec.whatwg.org/#concept-body-mime-type).
 */
export function blobTypeFromContentType(combined: string | null): string {
  const mimeType = extractMimeTypeFromValue(combined);
  return mimeType === null ? '' : serializeMimeType(mimeType);
}

/**
 * FormData bodies: multipart/form-data
 * (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#multipart/form-data-encoding-algorithm,
 * RFC 7578) both ways, and application/x-www-form-urlencoded parsing
 * (https://url.spec.whatwg.org/#concept-urlencoded-parser), for `formData()` of Request and Response.
 */
import { extractMimeTypeFromValue } from '../mime/extract.ts';
import { essenceOf, getParameter } from '../mime/mime-type.ts';
import { concatBytes } from '../encoding/concat-bytes.ts';
import {
  MathRandom,
  MathTrunc,
  NumberPrototypeToString,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeSplit,
  StringPrototypeToLowerCase,
  TypedArrayPrototypeGetLength,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { copyBytes, subarray } from '../encoding/buffer-source.ts';
import { utf8DecodeWithoutBOM, utf8Encode } from '../encoding/utf8.ts';
import { type File, blobParts, createFile, fileName, isFile } from './blob.ts';
import { type FormData, type FormDataEntry, createFormData, entriesOf } from './form-data.ts';

const CR = 0x0d;
const LF = 0x0a;

/** CR not followed by LF and LF not preceded by CR become CRLF (the algorithm's first step). */
function normalizeNewlines(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    if (c === CR && StringPrototypeCharCodeAt(text, i + 1) !== LF) {
      out += StringPrototypeSlice(text, start, i) + '\r\n';
      start = i + 1;
    } else if (c === LF && (i === 0 || StringPrototypeCharCodeAt(text, i - 1) !== CR)) {
      out += StringPrototypeSlice(text, start, i) + '\r\n';
      start = i + 1;
    }
  }
  return start === 0 ? text : out + StringPrototypeSlice(text, start);
}

/** Names and filenames in the Content-Disposition header: LF, CR and '"' percent-encoded. */
function escapeName(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    out += c === LF ? '%0A' : c === CR ? '%0D' : c === 0x22 ? '%22' : text[i]!;
  }
  return out;
}


/** A boundary no entry is likely to contain (as browsers do, a fixed prefix and random characters). */
function generateBoundary(): string {
  let random = '';
  for (let i = 0; i < 4; i++) random += NumberPrototypeToString(MathTrunc(MathRandom() * 0x100000000), 16);
  return `----IsolaneFormBoundary${random}`;
}

/** The multipart/form-data body of a FormData and its Content-Type. */
export function serializeMultipart(formData: FormData): { bytes: Uint8Array<ArrayBuffer>; type: string } {
  const boundary = generateBoundary();
  const list = entriesOf(formData);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < list.length; i++) {
    const { name, value } = list[i]!;
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(normalizeNewlines(name))}"`;
    if (isFile(value)) {
      const parts = blobParts(value);
      head += `; filename="${escapeName(fileName(value))}"\r\nContent-Type: ${parts.type !== '' ? parts.type : 'application/octet-stream'}\r\n\r\n`;
      chunks[chunks.length] = utf8Encode(head);
      chunks[chunks.length] = parts.bytes;
      chunks[chunks.length] = utf8Encode('\r\n');
    } else {
      chunks[chunks.length] = utf8Encode(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`);
    }
  }
  chunks[chunks.length] = utf8Encode(`--${boundary}--\r\n`);
  return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const n = TypedArrayPrototypeGetLength(needle);
  const last = TypedArrayPrototypeGetLength(haystack) - n;
  const first = needle[0]!;
  outer: for (let i = from; i <= last; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < n; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Parameters of a Content-Disposition value (`a; k=v; k2="quoted;value"`), names lower-cased; `head` is the lower-cased value before them. */
function parseParameters(value: string): { head: string; params: Record<string, string> } {
  const params: Record<string, string> = { __proto__: null as never };
  let i = StringPrototypeIndexOf(value, ';');
  const head = StringPrototypeToLowerCase(trim(i < 0 ? value : StringPrototypeSlice(value, 0, i)));
  while (i >= 0 && i < value.length) {
    i++; // past ';'
    const eq = StringPrototypeIndexOf(value, '=', i);
    const semi = StringPrototypeIndexOf(value, ';', i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      i = semi;
      continue;
    }
    const key = StringPrototypeToLowerCase(trim(StringPrototypeSlice(value, i, eq)));
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      for (j++; j < value.length && value[j] !== '"'; j++) {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j]!;
      }
      i = StringPrototypeIndexOf(value, ';', j);
    } else {
      const end = StringPrototypeIndexOf(value, ';', j);
      v = trim(StringPrototypeSlice(value, j, end < 0 ? value.length : end));
      i = end;
    }
    if (!(key in params)) params[key] = v;
  }
  return { head, params };
}

function trim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return StringPrototypeSlice(text, start, end);
}

/** RFC 7578 parts delimited by `--boundary`; null when the body is not well-formed. */
function parseMultipart(bytes: Uint8Array, boundary: string): FormDataEntry[] | null {
  const delimiter = utf8Encode(`--${boundary}`);
  const next = utf8Encode(`\r\n--${boundary}`);
  const headerEnd = utf8Encode('\r\n\r\n');
  const entries: FormDataEntry[] = [];
  // The first delimiter opens the body (anything before it is a preamble).
  let pos = indexOfBytes(bytes, delimiter, 0);
  if (pos < 0) return null;
  pos += TypedArrayPrototypeGetLength(delimiter);
  for (;;) {
    // "--" after a delimiter closes the body.
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return entries;
    while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++; // transport padding
    if (bytes[pos] !== CR || bytes[pos + 1] !== LF) return null;
    pos += 2;
    const end = indexOfBytes(bytes, headerEnd, pos - 2);
    if (end < 0) return null;
    let name: string | null = null;
    let filename: string | null = null;
    let contentType: string | null = null;
    const lines = end < pos ? [] : StringPrototypeSplit(utf8DecodeWithoutBOM(subarray(bytes, pos, end)), '\r\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = StringPrototypeIndexOf(line, ':');
      if (colon < 0) return null;
      const header = StringPrototypeToLowerCase(trim(StringPrototypeSlice(line, 0, colon)));
      const value = trim(StringPrototypeSlice(line, colon + 1));
      if (header === 'content-disposition') {
        const parsed = parseParameters(value);
        if (parsed.head !== 'form-data') return null;
        name = parsed.params['name'] ?? null;
        filename = parsed.params['filename'] ?? null;
      } else if (header === 'content-type') {
        contentType = value;
      }
    }
    if (name === null) return null;
    const bodyStart = end + 4;
    const bodyEnd = indexOfBytes(bytes, next, end + 2);
    if (bodyEnd < 0) return null;
    const body = subarray(bytes, bodyStart, bodyEnd);
    // RFC 7578 4.4: a part without Content-Type is text/plain.
    const value: string | File =
      filename !== null ? createFile(copyBytes(body), filename, contentType ?? 'text/plain') : utf8DecodeWithoutBOM(body);
    entries[entries.length] = { name, value };
    pos = bodyEnd + TypedArrayPrototypeGetLength(next);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** https://url.spec.whatwg.org/#percent-decode, '+' as space first (the urlencoded parser's step 3.4). */
function decodeComponent(bytes: Uint8Array, start: number, end: number): string {
  const out = new Uint8ArrayCtor(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && i + 2 < end && hexValue(bytes[i + 1]!) >= 0 && hexValue(bytes[i + 2]!) >= 0) {
      out[n++] = hexValue(bytes[i + 1]!) * 16 + hexValue(bytes[i + 2]!);
      i += 2;
    } else out[n++] = c;
  }
  return utf8DecodeWithoutBOM(subarray(out, 0, n));
}

// https://url.spec.whatwg.org/#concept-urlencoded-parser
function parseUrlencoded(bytes: Uint8Array): FormDataEntry[] {
  const entries: FormDataEntry[] = [];
  const length = TypedArrayPrototypeGetLength(bytes);
  let start = 0;
  while (start <= length) {
    // 1. Split on "&"; empty sequences are skipped.
    let end = start;
    while (end < length && bytes[end] !== 0x26) end++;
    if (end > start) {
      // 3.2-3.3. Name up to the first "=", value after it.
      let eq = start;
      while (eq < end && bytes[eq] !== 0x3d) eq++;
      const name = decodeComponent(bytes, start, eq);
      const value = eq < end ? decodeComponent(bytes, eq + 1, end) : '';
      entries[entries.length] = { name, value };
    }
    start = end + 1;
  }
  return entries;
}

/**
 * https://fetch.spec.whatwg.org/#dom-body-formdata: by the MIME type's essence, multipart/form-data
 * (its boundary parameter required) or application/x-www-form-urlencoded; anything else, or a
 * malformed body, is a TypeError.
 */
export function parseFormData(bytes: Uint8Array, contentType: string | null): FormData {
  // Fetch's "extract a MIME type", as blob() uses it (runtime/mime/).
  const mimeType = extractMimeTypeFromValue(contentType);
  if (mimeType !== null) {
    const head = essenceOf(mimeType);
    if (head === 'multipart/form-data') {
      const boundary = getParameter(mimeType, 'boundary');
      const entries = boundary === null || boundary === '' ? null : parseMultipart(bytes, boundary);
      if (entries === null) throw new TypeError("Failed to execute 'formData': Could not parse content as FormData.");
      return createFormData(entries);
    }
    if (head === 'application/x-www-form-urlencoded') return createFormData(parseUrlencoded(bytes));
  }
  throw new TypeError("Failed to execute 'formData': Could not parse content as FormData.");
}

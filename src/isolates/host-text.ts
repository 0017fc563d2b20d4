/**
 * UTF-8 decoding for the runtime (bridge op `decodeUtf8`). The runtime's own decoder is a JavaScript
 * state machine (runtime/encoding/utf8.ts): 211 ms for a 14 MB body, against 11 ms for Node's native
 * one, and charged to the tenant as CPU. The runtime sends long inputs here in pieces of at most 1 MiB,
 * cut at code point boundaries, so that each call stays short. Same replacement of malformed sequences
 * (the Encoding Standard's); a byte order mark is kept (the runtime strips it where the standard says).
 */
import { TextDecoder } from 'node:util';
import type { TextBody } from './protocol.ts';

const lenient = new TextDecoder('utf-8', { ignoreBOM: true });
const strict = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

/** The text of `data`; null when `fatal` and the bytes are not UTF-8. */
export function decodeUtf8(data: unknown, fatal: unknown): string | null {
  if (!(data instanceof ArrayBuffer)) throw new TypeError('decodeUtf8 takes an ArrayBuffer');
  if (!fatal) return lenient.decode(data);
  try {
    return strict.decode(data);
  } catch {
    return null;
  }
}

/**
 * The legacy encodings of the Encoding Standard besides windows-1252 (Shift_JIS, GBK, EUC-KR,
 * windows-1251, ...), for the runtime's TextDecoder (bridge ops `encodingName` and `decodeText`): their
 * tables are Node's (ICU), too large to keep in every isolate. The runtime keeps UTF-8, UTF-16 and
 * windows-1252 itself.
 */
const decoders = new Map<string, TextDecoder>();

/** The encoding `label` names, as the Encoding Standard gets it, or null (unknown, or "replacement"). */
export function encodingName(label: unknown): string | null {
  if (typeof label !== 'string' || label.length > 64) return null;
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null;
  }
}

/** `data` decoded from `encoding` (a name encodingName gave); null when `fatal` and it is malformed. */
export function decodeText(encoding: unknown, data: unknown, fatal: unknown): string | null {
  if (!(data instanceof ArrayBuffer)) throw new TypeError('decodeText takes an ArrayBuffer');
  const name = encodingName(encoding);
  if (name === null) throw new TypeError(`decodeText: no encoding ${String(encoding)}`);
  const key = `${name} ${fatal ? 'fatal' : ''}`;
  let decoder = decoders.get(key);
  if (!decoder) decoders.set(key, (decoder = new TextDecoder(name, { fatal: !!fatal, ignoreBOM: true })));
  try {
    return decoder.decode(data);
  } catch {
    return null;
  }
}

/**
 * A body read whole (a request's, or a fetch response's), as its text when it is UTF-8 (JSON, forms,
 * text: most bodies), else as it is. A string crosses into the isolate as a primitive, with no copy
 * pass, so a request can join a batch (request-batches.ts), and text() and json() need no decoding in
 * the isolate: the runtime holds the string as the body's source, and bytes() encodes it again (V8's
 * encoder, through the addon), which gives back the same bytes (valid UTF-8 round-trips, a byte order
 * mark included). The one text that stays bytes is 'stream', the bridge's mark of a streamed body.
 */
export function textIfUtf8(body: ArrayBuffer): ArrayBuffer | TextBody {
  const text = decodeUtf8(body, true);
  return text === null || text === 'stream' ? body : text;
}

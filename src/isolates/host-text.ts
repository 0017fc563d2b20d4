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

/**
 * A decode() the runtime sends in pieces (at most 1 MiB a call, so the CPU limit can stop it between
 * them), cut anywhere: the pieces share this decoder, which keeps what a cut split. One at a time per
 * thread: a decode() runs to its end, or its isolate is stopped, before another begins, and each begins
 * with a first piece.
 */
let pieces: TextDecoder | null = null;

/** How a call's bytes stand in their decode(): all of them, or its first, a middle or its last piece. */
const Piece = { Whole: 0, First: 1, Middle: 2, Last: 3 } as const;

/** `data` decoded from `encoding` (a name encodingName gave); null when `fatal` and it is malformed. */
export function decodeText(encoding: unknown, data: unknown, fatal: unknown, piece: unknown = Piece.Whole): string | null {
  if (!(data instanceof ArrayBuffer)) throw new TypeError('decodeText takes an ArrayBuffer');
  const name = encodingName(encoding);
  if (name === null) throw new TypeError(`decodeText: no encoding ${String(encoding)}`);
  let decoder: TextDecoder;
  if (piece === Piece.Whole) {
    const key = `${name} ${fatal ? 'fatal' : ''}`;
    decoder = decoders.get(key) ?? new TextDecoder(name, { fatal: !!fatal, ignoreBOM: true });
    decoders.set(key, decoder);
  } else if (piece === Piece.First) {
    decoder = pieces = new TextDecoder(name, { fatal: !!fatal, ignoreBOM: true });
  } else if ((piece === Piece.Middle || piece === Piece.Last) && pieces !== null) {
    decoder = pieces;
  } else {
    throw new TypeError('decodeText: a piece with no first piece before it');
  }
  try {
    const text = decoder.decode(data, { stream: piece === Piece.First || piece === Piece.Middle });
    if (piece === Piece.Last) pieces = null;
    return text;
  } catch {
    pieces = null;
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

/**
 * Bodies of Request and Response (https://fetch.spec.whatwg.org/#bodies).
 *
 * A body is kept as what it was made from: a string stays a string (it crosses the bridge as is and
 * is UTF-8 encoded by the host, never twice), everything else is bytes. Streams are a later
 * milestone: a `ReadableStream` source will be one more variant of `BodySource`, `.body` will expose
 * it, and consuming a stream will read it to the end here instead of returning the held value.
 */
import type { BridgeBody } from '../host.d.ts';
import {
  ArrayBufferPrototypeGetByteLength,
  JSONParse,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  StringPrototypeToWellFormed,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { utf8Decode, utf8Encode } from '../encoding/utf8.ts';
import { isURLSearchParams, serializeSearchParams } from '../url/url.ts';

/** The held content. Bytes are never mutated once held, so clones may share them. */
export type BodySource = string | Uint8Array<ArrayBuffer>;

/** The body part of a Request's or Response's state. */
export interface BodyState {
  /** null for "body is null". */
  source: BodySource | null;
  /** The body was read (or handed on to another Request): "disturbed". */
  used: boolean;
}

export interface ExtractedBody {
  source: BodySource;
  /** The Content-Type to set when the headers have none. */
  type: string | null;
}

// https://fetch.spec.whatwg.org/#concept-bodyinit-extract
export function extractBody(init: unknown): ExtractedBody {
  if (typeof init === 'string') {
    // USVString: lone surrogates become U+FFFD now, so text() and the bytes sent agree.
    return { source: StringPrototypeToWellFormed(init), type: 'text/plain;charset=UTF-8' };
  }
  if (typeof init === 'object' && init !== null) {
    // BufferSource: "a copy of the bytes held by object", so later writes by the worker do not show.
    const bytes = bufferSourceBytes(init, false);
    if (bytes !== null) return { source: copyBytes(bytes), type: null };
    if (isURLSearchParams(init)) {
      return { source: serializeSearchParams(init), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
    }
    // Blob, FormData and ReadableStream belong to later milestones; until then they stringify below.
  }
  // Any other value is converted to a USVString by the BodyInit union, as in browsers.
  return { source: StringPrototypeToWellFormed(`${init as string}`), type: 'text/plain;charset=UTF-8' };
}

export function isUnusable(state: BodyState): boolean {
  return state.source !== null && state.used;
}

/** https://fetch.spec.whatwg.org/#concept-body-consume-body, up to the bytes (or text) it holds. */
function take(state: BodyState, method: string): BodySource | null {
  if (isUnusable(state)) throw new TypeError(`Failed to execute '${method}': body stream already read`);
  // A null body is never "used": reading it gives an empty result every time.
  if (state.source === null) return null;
  state.used = true;
  return state.source;
}

/** UTF-8 decode, which strips a leading BOM (https://encoding.spec.whatwg.org/#utf-8-decode). */
function sourceText(source: BodySource | null): string {
  if (source === null) return '';
  if (typeof source === 'string') {
    return StringPrototypeCharCodeAt(source, 0) === 0xfeff ? StringPrototypeSlice(source, 1) : source;
  }
  return utf8Decode(source);
}

function sourceBytes(source: BodySource | null): Uint8Array<ArrayBuffer> {
  if (source === null) return new Uint8ArrayCtor(0);
  return typeof source === 'string' ? utf8Encode(source) : copyBytes(source);
}

export function consumeText(state: BodyState): string {
  return sourceText(take(state, 'text'));
}

export function consumeJSON(state: BodyState): unknown {
  return JSONParse(sourceText(take(state, 'json')));
}

export function consumeArrayBuffer(state: BodyState): ArrayBuffer {
  return TypedArrayPrototypeGetBuffer(sourceBytes(take(state, 'arrayBuffer'))) as ArrayBuffer;
}

export function consumeBytes(state: BodyState): Uint8Array<ArrayBuffer> {
  return sourceBytes(take(state, 'bytes'));
}

/** https://fetch.spec.whatwg.org/#concept-body-clone: immutable sources are shared. */
export function cloneBodyState(state: BodyState): BodyState {
  return { source: state.source, used: false };
}

/**
 * The body as it crosses the bridge: strings as they are, bytes as an ArrayBuffer holding exactly
 * them (isolated-vm copies it; the held bytes are not handed out). Marks the body used.
 */
export function takeForBridge(state: BodyState): BridgeBody {
  const source = state.source;
  if (source === null) return null;
  state.used = true;
  if (typeof source === 'string') return source;
  const buffer = TypedArrayPrototypeGetBuffer(source) as ArrayBuffer;
  const exact =
    TypedArrayPrototypeGetByteOffset(source) === 0 &&
    TypedArrayPrototypeGetByteLength(source) === ArrayBufferPrototypeGetByteLength(buffer);
  return exact ? buffer : (TypedArrayPrototypeGetBuffer(copyBytes(source)) as ArrayBuffer);
}

/** Adopt bytes from the host (a request body): the ArrayBuffer is already this isolate's own copy. */
export function bodyFromHost(body: ArrayBuffer | null): BodyState {
  return { source: body === null ? null : new Uint8ArrayCtor(body), used: false };
}

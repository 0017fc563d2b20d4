/**
 * Bodies of Request and Response (https://fetch.spec.whatwg.org/#bodies).
 *
 * A body is kept as what it was made from: a string stays a string (it crosses the bridge as is and
 * is UTF-8 encoded by the host, never twice), a BufferSource is bytes, and a ReadableStream given by
 * the worker stays a stream. The stream of a string or bytes body is made only when `.body` is first
 * read (most bodies are consumed with text()/json() or sent as they are, and a stream costs the
 * streams library's load and a few promise jobs); from then on that stream is the body.
 *
 * Bodies cross the bridge (host.d.ts) whole when they are held content, and chunk by chunk when they
 * are streams: a response stream is sent as the worker produces it (streams/send-body.ts), a request
 * body the host streams in is read as the worker pulls (streams/host-body.ts).
 */
import type { BridgeBody } from '../host.d.ts';
import {
  ArrayBufferPrototypeGetByteLength,
  PromisePrototypeThen,
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
import { readAllBytes } from '../streams/read-all-bytes.ts';
import { heldBytesOf, streamFromBytes } from '../streams/stream-from-bytes.ts';
import { requestBodyStream } from '../streams/host-body.ts';
import { setKnownLength } from '../streams/known-length.ts';
import { type ReadableStream, isDisturbed, isLocked, isReadableStream, loadStreams } from '../streams/web-streams.ts';
import { isURLSearchParams, serializeSearchParams } from '../url/url.ts';
import { type Blob, blobParts, createBlobWithExactType, isBlob } from './blob.ts';
import { blobTypeFromContentType } from '../mime/extract.ts';
import { type FormData, isFormData } from './form-data.ts';
import { parseFormData, serializeMultipart } from './multipart.ts';
import { parse as parseJson } from '../global/interruptible/json-parse.ts';

/** The held content. Bytes are never mutated once held, so clones may share them. */
export type BodySource = string | Uint8Array<ArrayBuffer>;

/** The body part of a Request's or Response's state. Both fields null: "body is null". */
export interface BodyState {
  /** The held content; null once the body is a stream. */
  source: BodySource | null;
  /** The body's stream: the worker's, or made from `source` when `.body` is first read. */
  stream: ReadableStream<unknown> | null;
  /** Consumed by text(), json(), …, sent, or handed on to another Request. */
  used: boolean;
}

export interface ExtractedBody {
  source: BodySource | null;
  stream: ReadableStream<unknown> | null;
  /** The Content-Type to set when the headers have none. */
  type: string | null;
}

export function emptyBody(): BodyState {
  return { source: null, stream: null, used: false };
}

export function bodyFrom(extracted: ExtractedBody): BodyState {
  return { source: extracted.source, stream: extracted.stream, used: false };
}

export function hasBody(state: BodyState): boolean {
  return state.source !== null || state.stream !== null;
}

// https://fetch.spec.whatwg.org/#concept-bodyinit-extract
export function extractBody(init: unknown): ExtractedBody {
  if (typeof init === 'string') {
    // USVString: lone surrogates become U+FFFD now, so text() and the bytes sent agree.
    return { source: StringPrototypeToWellFormed(init), stream: null, type: 'text/plain;charset=UTF-8' };
  }
  if (typeof init === 'object' && init !== null) {
    // The platform objects first: their brand checks are cheap, while the BufferSource one throws inside
    // for anything that is not a buffer.
    if (isURLSearchParams(init)) {
      return { source: serializeSearchParams(init), stream: null, type: 'application/x-www-form-urlencoded;charset=UTF-8' };
    }
    // ReadableStream: taken as it is; it must not have been read from or be locked to a reader.
    if (isReadableStream(init)) {
      if (isDisturbed(init) || isLocked(init)) throw new TypeError('The ReadableStream body is disturbed or locked.');
      return { source: null, stream: init, type: null };
    }
    // Blob: its bytes (immutable, so shared), its type if not empty.
    if (isBlob(init)) {
      const parts = blobParts(init);
      return { source: parts.bytes, stream: null, type: parts.type !== '' ? parts.type : null };
    }
    // FormData: the multipart/form-data encoding with a fresh boundary.
    if (isFormData(init)) {
      const multipart = serializeMultipart(init);
      return { source: multipart.bytes, stream: null, type: multipart.type };
    }
    // BufferSource: "a copy of the bytes held by object", so later writes by the worker do not show.
    const bytes = bufferSourceBytes(init, false);
    if (bytes !== null) return { source: copyBytes(bytes), stream: null, type: null };
  }
  // Any other value is converted to a USVString by the BodyInit union, as in browsers.
  return { source: StringPrototypeToWellFormed(`${init as string}`), stream: null, type: 'text/plain;charset=UTF-8' };
}

// https://fetch.spec.whatwg.org/#dom-body-bodyused: non-null and disturbed.
export function isBodyUsed(state: BodyState): boolean {
  return state.used || (state.stream !== null && isDisturbed(state.stream));
}

// https://fetch.spec.whatwg.org/#body-unusable: non-null and disturbed or locked.
export function isUnusable(state: BodyState): boolean {
  if (state.stream !== null) return state.used || isDisturbed(state.stream) || isLocked(state.stream);
  return state.source !== null && state.used;
}

// https://fetch.spec.whatwg.org/#dom-body-body
export function bodyStream(state: BodyState): ReadableStream<unknown> | null {
  const source = state.source;
  if (state.stream === null && source !== null) {
    if (state.used) {
      // Consumed before its stream was looked at: the stream a reader left behind, locked and disturbed.
      const streams = loadStreams();
      const stream = streamFromBytes(new Uint8ArrayCtor(0));
      PromisePrototypeThen(streams.read(streams.getReader(stream)), undefined, () => {});
      state.stream = stream;
    } else {
      state.stream = streamFromBytes(typeof source === 'string' ? utf8Encode(source) : source);
    }
    state.source = null;
  }
  return state.stream;
}

/** UTF-8 decode, which strips a leading BOM (https://encoding.spec.whatwg.org/#utf-8-decode). */
function sourceText(source: BodySource | null): string {
  if (source === null) return '';
  if (typeof source === 'string') {
    return StringPrototypeCharCodeAt(source, 0) === 0xfeff ? StringPrototypeSlice(source, 1) : source;
  }
  return utf8Decode(source);
}

/** The held bytes themselves (not a copy): only for readers that never write to them. */
function heldBytes(source: BodySource | null): Uint8Array<ArrayBuffer> {
  if (source === null) return new Uint8ArrayCtor(0);
  return typeof source === 'string' ? utf8Encode(source) : source;
}

function sourceBytes(source: BodySource | null): Uint8Array<ArrayBuffer> {
  if (source === null) return new Uint8ArrayCtor(0);
  return typeof source === 'string' ? utf8Encode(source) : copyBytes(source);
}

function sourceJSON(source: BodySource | null): unknown {
  return parseJson(sourceText(source));
}

function sourceArrayBuffer(source: BodySource | null): ArrayBuffer {
  return TypedArrayPrototypeGetBuffer(sourceBytes(source)) as ArrayBuffer;
}

/**
 * https://fetch.spec.whatwg.org/#concept-body-consume-body: held content is converted at once, a
 * stream is fully read first. A null body is never "used": reading it gives an empty result every time.
 */
function consume<T>(state: BodyState, method: string, convert: (source: BodySource | null) => T): T | Promise<T> {
  if (isUnusable(state)) throw new TypeError(`Failed to execute '${method}': body stream already read`);
  const stream = state.stream;
  if (stream !== null) {
    state.used = true;
    return PromisePrototypeThen(readAllBytes(stream), convert);
  }
  const source = state.source;
  if (source !== null) state.used = true;
  return convert(source);
}

export function consumeText(state: BodyState): string | Promise<string> {
  return consume(state, 'text', sourceText);
}

export function consumeJSON(state: BodyState): unknown {
  return consume(state, 'json', sourceJSON);
}

export function consumeArrayBuffer(state: BodyState): ArrayBuffer | Promise<ArrayBuffer> {
  return consume(state, 'arrayBuffer', sourceArrayBuffer);
}

export function consumeBytes(state: BodyState): Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>> {
  return consume(state, 'bytes', sourceBytes);
}

// https://fetch.spec.whatwg.org/#dom-body-blob: the type is the MIME type extracted from the
// Content-Type (`contentType`, the combined value), serialized, or '' when there is none.
export function consumeBlob(state: BodyState, contentType: string | null): Blob | Promise<Blob> {
  return consume(state, 'blob', (source) => createBlobWithExactType(heldBytes(source), blobTypeFromContentType(contentType)));
}

// https://fetch.spec.whatwg.org/#dom-body-formdata
export function consumeFormData(state: BodyState, contentType: string | null): FormData | Promise<FormData> {
  return consume(state, 'formData', (source) => parseFormData(heldBytes(source), contentType));
}

/**
 * https://fetch.spec.whatwg.org/#concept-body-clone: held content is shared (it is immutable); a
 * stream is teed, this body keeping one branch and the clone getting the other.
 */
export function cloneBodyState(state: BodyState): BodyState {
  if (state.stream === null) return { source: state.source, stream: null, used: false };
  const branches = loadStreams().tee(state.stream);
  state.stream = branches[0];
  return { source: null, stream: branches[1], used: false };
}

/**
 * The body of a Request built from another Request (https://fetch.spec.whatwg.org/#dom-request,
 * "create a proxy" of input's body): held content moves over, a stream is piped through an identity
 * TransformStream. Either way the input's body is used from now on.
 */
export function takeOverBody(input: BodyState): BodyState {
  input.used = true;
  if (input.stream === null) return { source: input.source, stream: null, used: false };
  const streams = loadStreams();
  const identity = new streams.api.TransformStream();
  const stream = streams.pipeThrough(input.stream, { readable: streams.readableOf(identity), writable: streams.writableOf(identity) });
  return { source: null, stream, used: false };
}

/** An ArrayBuffer holding exactly `bytes`: their own buffer when it has nothing else in it. */
function exactBuffer(bytes: Uint8Array<ArrayBuffer>): ArrayBuffer {
  const buffer = TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer;
  const exact =
    TypedArrayPrototypeGetByteOffset(bytes) === 0 &&
    TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(buffer);
  return exact ? buffer : (TypedArrayPrototypeGetBuffer(copyBytes(bytes)) as ArrayBuffer);
}

export interface BridgeBodyOrStream {
  /** What to send, when the body is held content or null. */
  body: BridgeBody;
  /** A stream body, to be sent chunk by chunk (streams/send-body.ts). */
  stream: ReadableStream<unknown> | null;
}

/**
 * The body as it crosses the bridge: strings as they are, bytes as an ArrayBuffer holding exactly
 * them (isolated-vm copies it; the held bytes are not handed out), a stream as it is, except a stream
 * made from held bytes that nobody read yet (e.g. `new Response(other.body)`), which is sent as those
 * bytes in one piece. Marks the body used.
 */
export function takeForBridge(state: BodyState): BridgeBodyOrStream {
  const stream = state.stream;
  if (stream !== null) {
    state.used = true;
    const held = isDisturbed(stream) || isLocked(stream) ? null : heldBytesOf(stream);
    if (held !== null) {
      // Locks the stream as sending it would, so the worker sees the same state either way.
      loadStreams().getReader(stream);
      return { body: exactBuffer(held), stream: null };
    }
    return { body: null, stream };
  }
  const source = state.source;
  if (source === null) return { body: null, stream: null };
  state.used = true;
  return { body: typeof source === 'string' ? source : exactBuffer(source), stream: null };
}

/** Adopt bytes from the host (a request or fetched body): the ArrayBuffer is already this isolate's own copy. */
/** A body the host read whole (a request's, a fetch response's): its bytes, or its text when it is UTF-8 (a string source). */
export function bodyFromHost(body: ArrayBuffer | string | null): BodyState {
  return { source: body === null || typeof body === 'string' ? body : new Uint8ArrayCtor(body), stream: null, used: false };
}

/** A request body the host streams in as invocation `id` reads it. */
export function streamedBodyFromHost(id: number, length: number | undefined): BodyState {
  const stream = requestBodyStream(id);
  if (length !== undefined) setKnownLength(stream, length);
  return { source: null, stream, used: false };
}

/** An outbound fetch's response body the host streams in as the worker reads it (host-body.ts fetchBodyStream). */
export function streamedFetchBody(stream: ReadableStream<Uint8Array>): BodyState {
  return { source: null, stream, used: false };
}

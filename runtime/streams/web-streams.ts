/**
 * The Streams Standard (https://streams.spec.whatwg.org/) comes from web-streams-polyfill (MIT), a
 * port of the standard's reference implementation, built as a runtime chunk (src/isolates/runtime-bundle.ts)
 * and loaded on first use: an isolate that never touches a stream holds neither its 62 KB of source nor
 * its classes.
 *
 * The library keeps its state in `_underscored` properties and calls ordinary (replaceable) methods
 * internally, so a worker that rewrites built-ins can break its own streams. What the runtime itself
 * calls (bodies, the response read in invocation.ts) goes through the copies captured in loadStreams(),
 * taken from classes that no tenant code could have seen before they were made.
 */
import type * as WebStreams from 'web-streams-polyfill';
import { CONFIGURABLE, defineValue, ObjectPrototypeIsPrototypeOf, ReflectGetOwnPropertyDescriptor, uncurryThis, WRITABLE } from '../primordials.ts';
import { readAtLeastWith } from './read-at-least.ts';
import { defineLazyGlobal, setName } from '../global/define.ts';
import { loadChunk } from '../chunks.ts';

export type {
  ReadableStream,
  ReadableStreamDefaultReader,
  TransformStream,
  TransformStreamDefaultController,
  WritableStream,
} from 'web-streams-polyfill';

type Api = typeof WebStreams;
type Stream = WebStreams.ReadableStream<unknown>;
type Reader = WebStreams.ReadableStreamDefaultReader<unknown>;
type ByteController = WebStreams.ReadableByteStreamController;
type Transform = WebStreams.TransformStream<unknown, unknown>;
type TransformController = WebStreams.TransformStreamDefaultController<unknown>;

/** Interfaces of the Streams Standard that are globals (https://streams.spec.whatwg.org/#rs-class and on). */
const GLOBALS = [
  'ReadableStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest',
  'ReadableStreamDefaultController',
  'ReadableByteStreamController',
  'WritableStream',
  'WritableStreamDefaultWriter',
  'WritableStreamDefaultController',
  'TransformStream',
  'TransformStreamDefaultController',
  'ByteLengthQueuingStrategy',
  'CountQueuingStrategy',
] as const;

export interface Streams {
  api: Api;
  /** The `locked` getter: throws a TypeError when its receiver is not a ReadableStream. */
  isLocked: (stream: Stream) => boolean;
  getReader: (stream: Stream) => Reader;
  tee: (stream: Stream) => [Stream, Stream];
  pipeThrough: (stream: Stream, pair: { readable: Stream; writable: WebStreams.WritableStream<unknown> }) => Stream;
  read: (reader: Reader) => Promise<WebStreams.ReadableStreamDefaultReadResult<unknown>>;
  cancel: (reader: Reader, reason?: unknown) => Promise<void>;
  enqueueBytes: (controller: ByteController, chunk: ArrayBufferView) => void;
  closeBytes: (controller: ByteController) => void;
  readableOf: (transform: Transform) => Stream;
  writableOf: (transform: Transform) => WebStreams.WritableStream<unknown>;
  enqueue: (controller: TransformController, chunk: unknown) => void;
}

let loaded: Streams | null = null;

export function loadStreams(): Streams {
  if (loaded !== null) return loaded;
  const api = loadChunk<Api>('web-streams');
  // The bundle is minified without keepNames (see global/define.ts): the class names are set here.
  for (let i = 0; i < GLOBALS.length; i++) setName(api[GLOBALS[i]!], GLOBALS[i]!);
  const stream = api.ReadableStream.prototype;
  const reader = api.ReadableStreamDefaultReader.prototype;
  const controller = api.ReadableByteStreamController.prototype;
  const transform = api.TransformStream.prototype;
  const byobReader = api.ReadableStreamBYOBReader.prototype;
  const readAtLeast = readAtLeastWith(uncurryThis(byobReader.read) as unknown as Parameters<typeof readAtLeastWith>[0]);
  setName(readAtLeast, 'readAtLeast');
  defineValue(byobReader, 'readAtLeast', readAtLeast, WRITABLE | CONFIGURABLE);
  loaded = {
    api,
    isLocked: uncurryThis(ReflectGetOwnPropertyDescriptor(stream, 'locked')!.get as (this: Stream) => boolean),
    getReader: uncurryThis(stream.getReader as (this: Stream) => Reader),
    tee: uncurryThis(stream.tee as (this: Stream) => [Stream, Stream]),
    pipeThrough: uncurryThis(stream.pipeThrough) as Streams['pipeThrough'],
    read: uncurryThis(reader.read as Reader['read']),
    cancel: uncurryThis(reader.cancel as Reader['cancel']),
    enqueueBytes: uncurryThis(controller.enqueue as ByteController['enqueue']),
    closeBytes: uncurryThis(controller.close as ByteController['close']),
    readableOf: uncurryThis(ReflectGetOwnPropertyDescriptor(transform, 'readable')!.get as (this: Transform) => Stream),
    writableOf: uncurryThis(
      ReflectGetOwnPropertyDescriptor(transform, 'writable')!.get as (this: Transform) => WebStreams.WritableStream<unknown>,
    ),
    enqueue: uncurryThis(api.TransformStreamDefaultController.prototype.enqueue as TransformController['enqueue']),
  };
  return loaded;
}

/**
 * Whether `value` is a ReadableStream. False until the library is loaded: no stream can exist before.
 * The brand check throws inside for anything else, and an exception costs ~10 µs in an isolate: only
 * what inherits from ReadableStream.prototype gets it (a stream given another prototype is not one).
 */
export function isReadableStream(value: unknown): value is Stream {
  if (loaded === null || typeof value !== 'object' || value === null) return false;
  if (!ObjectPrototypeIsPrototypeOf(loaded.api.ReadableStream.prototype, value)) return false;
  try {
    loaded.isLocked(value as Stream);
    return true;
  } catch {
    return false;
  }
}

/**
 * https://streams.spec.whatwg.org/#is-readable-stream-disturbed: the library's [[disturbed]] slot
 * (set by the first read or cancel). web-streams-polyfill is pinned; streams.test.ts checks this.
 */
export function isDisturbed(stream: Stream): boolean {
  return (stream as unknown as { _disturbed: boolean })._disturbed === true;
}

/** https://streams.spec.whatwg.org/#is-readable-stream-locked */
export function isLocked(stream: Stream): boolean {
  return loadStreams().isLocked(stream);
}

/**
 * Install the Streams globals as accessors that load the library when any of them is first read. The
 * first read (or a write) of a name replaces its accessor with an ordinary writable data property.
 */
export function installStreamGlobals(): void {
  for (let i = 0; i < GLOBALS.length; i++) {
    const name = GLOBALS[i]!;
    defineLazyGlobal(name, () => loadStreams().api[name]);
  }
}

/**
 * The Node.js built-in modules of nodejs_compat (`node:assert`, `node:async_hooks`, `node:buffer`,
 * `node:crypto`, `node:diagnostics_channel`, `node:events`, `node:path`, `node:process`,
 * `node:querystring`, `node:stream`, `node:string_decoder`, `node:timers`, `node:url`, `node:util`,
 * `node:zlib`),
 * each made from its runtime chunk on the first import (runtime/builtin-modules.ts).
 */
import { loadChunk } from '../chunks.ts';
import { atob, btoa } from '../global/base64.ts';
import { Utf8Decoder, utf8DecodeWithoutBOM } from '../encoding/utf8.ts';
import { bufferSourceBytes, copyBytes, isArrayBuffer } from '../encoding/buffer-source.ts';
import { ArrayBufferIsView, CONFIGURABLE, defineValue, ENUMERABLE, ErrorCtor, globalThisRef, ObjectCreate, ObjectFreeze, ObjectHasOwn, RangeErrorCtor, ReflectApply, TypeErrorCtor, WRITABLE } from '../primordials.ts';
import { hostDigest } from '../bridge.ts';
import { subtleCall } from '../crypto/host-call.ts';
import { fillRandom } from '../crypto/random.ts';
import { crypto } from '../global/crypto.ts';
import type { CryptoPlatform } from './crypto.ts';
import type { AsyncContextPlatform } from './async-hooks.ts';
import type { ProcessPlatform } from './process.ts';
import type { UrlPlatform } from './url.ts';
import type { QuerystringPlatform } from './querystring.ts';
import type { TimersPlatform } from './timers.ts';
import type { DiagnosticsChannelPlatform } from './diagnostics-channel.ts';
import type { ZlibPlatform } from './zlib.ts';
import type { StubModule, StubsPlatform } from './stubs.ts';
import { performance } from '../global/performance.ts';
import { Compressor, Decompressor } from '../compression/codecs.ts';
import { crc32 } from '../compression/checksums.ts';
import { queueMicrotask, reportError } from '../global/queue-microtask.ts';
import { clearTimeout, setInterval, setTimeout } from '../global/timers.ts';
import { urlClasses } from '../url/url.ts';
import { toASCII, toUnicode } from '../url/tr46-lazy.ts';
import { asyncContextNatives } from '../async-context.ts';

export type ModuleExports = Record<string, unknown>;

interface BufferChunk {
  Buffer: { byteLength(string: string, encoding?: string): number } & Function;
  SlowBuffer: Function;
  INSPECT_MAX_BYTES: number;
  kMaxLength: number;
}

export function loadBuffer(): ModuleExports {
  const chunk = loadChunk<BufferChunk>('node-buffer');
  const { Buffer } = chunk;
  const kStringMaxLength = 2 ** 29 - 24;
  const exports: ModuleExports = {
    Buffer,
    SlowBuffer: chunk.SlowBuffer,
    INSPECT_MAX_BYTES: chunk.INSPECT_MAX_BYTES,
    kMaxLength: chunk.kMaxLength,
    kStringMaxLength,
    constants: ObjectFreeze({ MAX_LENGTH: chunk.kMaxLength, MAX_STRING_LENGTH: kStringMaxLength }),
    atob,
    btoa,
    isAscii,
    isUtf8,
    // The globals, as Node's module exports them; read when the module is first imported.
    Blob: (globalThisRef as { Blob?: unknown }).Blob,
    File: (globalThisRef as { File?: unknown }).File,
  };
  exports.default = exports;
  return exports;
}

function bytesOf(input: unknown): Uint8Array {
  const bytes = bufferSourceBytes(input, true);
  if (bytes === null) throw new TypeErrorCtor('The "input" argument must be an ArrayBuffer, a Buffer, a TypedArray or a DataView');
  return bytes;
}

function isAscii(input: unknown): boolean {
  const bytes = bytesOf(input);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

function isUtf8(input: unknown): boolean {
  return new Utf8Decoder().decode(bytesOf(input), true, true) !== null;
}

interface EventsChunk {
  (this: unknown): void;
  EventEmitter: Function;
  once: Function;
  defaultMaxListeners: number;
  listenerCount?: Function;
}

export function loadEvents(): ModuleExports {
  const EventEmitter = loadChunk<EventsChunk>('node-events');
  const exports: ModuleExports = {
    default: EventEmitter,
    EventEmitter,
    once: EventEmitter.once,
    listenerCount: EventEmitter.listenerCount,
    defaultMaxListeners: EventEmitter.defaultMaxListeners,
  };
  return exports;
}

/** A module whose default export is `object` and whose named exports are its own properties. */
function moduleOf(object: ModuleExports): ModuleExports {
  const exports: ModuleExports = { default: object };
  for (const key in object) if (ObjectHasOwn(object, key)) exports[key] = object[key];
  return exports;
}

export function loadPath(): ModuleExports {
  const path = loadChunk<ModuleExports>('node-path');
  // Node's posix path has it too, as the identity (path-browserify calls it _makeLong).
  path.toNamespacedPath ??= path._makeLong;
  return moduleOf(path);
}

/** node:assert compares and prints with node:util's own functions (its chunk, loaded once either way). */
export function loadAssert(): ModuleExports {
  const util = loadChunk<ModuleExports>('node-util') as { inspect: Function; isDeepStrictEqual: Function };
  return moduleOf(loadChunk<{ makeAssert(util: unknown): ModuleExports }>('node-assert').makeAssert(util));
}

/** node:assert/strict: node:assert's `strict`, as a module of its own. */
export function loadAssertStrict(builtin: (name: string) => ModuleExports): ModuleExports {
  return moduleOf(builtin('node:assert').strict as ModuleExports);
}

export function loadUtil(): ModuleExports {
  return moduleOf(loadChunk<ModuleExports>('node-util'));
}

export function loadCrypto(): ModuleExports {
  const { makeCrypto } = loadChunk<{ makeCrypto(platform: CryptoPlatform): ModuleExports }>('node-crypto');
  const platform: CryptoPlatform = {
    digest(algorithm, data) {
      const digest = hostDigest(algorithm, copyOf(data));
      if (digest === null) throw new RangeErrorCtor('The data is too large to hash at once');
      return digest;
    },
    hmac: (hash, key, data) => subtleCall({ __proto__: null, op: 'sign', alg: 'HMAC', hash }, [copyOf(key), copyOf(data)]).buffers[0]!,
    fillRandom,
    randomUUID: () => crypto.randomUUID(),
    // node:buffer's Buffer: loadChunk runs a chunk once per isolate.
    Buffer: loadChunk<BufferChunk>('node-buffer').Buffer as unknown as CryptoPlatform['Buffer'],
    webcrypto: crypto as unknown as CryptoPlatform['webcrypto'],
  };
  const exports = makeCrypto(platform);
  exports.default = exports;
  return exports;
}

/** The bytes as an ArrayBuffer, as the bridge takes them (and copies): the view's own when it is all of it. */
function copyOf(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && isArrayBuffer(bytes.buffer);
  return whole ? (bytes.buffer as ArrayBuffer) : copyBytes(bytes).buffer;
}

export function loadAsyncHooks(): ModuleExports {
  const natives = asyncContextNatives();
  if (natives === null) throw new TypeErrorCtor('node:async_hooks needs the watchdog addon built for this V8');
  return loadChunk<{ makeAsyncHooks(platform: AsyncContextPlatform): ModuleExports }>('node-async-hooks').makeAsyncHooks(natives);
}

export function loadProcess(platform: ProcessPlatform): ModuleExports {
  return moduleOf(loadChunk<{ makeProcess(platform: ProcessPlatform): ModuleExports }>('node-process').makeProcess(platform));
}

type MakeModule = { make(modules: Record<string, unknown>): ModuleExports };

interface StringDecoderClass {
  prototype: { write(this: unknown, bytes: unknown): string; end(this: unknown, bytes?: unknown): string };
}

/**
 * node:string_decoder: Node's own StringDecoder (the string_decoder package), over node:buffer's Buffer.
 * Node's takes any TypedArray or DataView too; the package takes Buffers only, so views become Buffers
 * over the same memory on the way in.
 */
export function loadStringDecoder(builtin: (name: string) => ModuleExports): ModuleExports {
  const Buffer = builtin('node:buffer').Buffer as { isBuffer(value: unknown): boolean; from(buffer: ArrayBufferLike, offset: number, length: number): unknown };
  const decoderModule = loadChunk<MakeModule>('node-string-decoder').make({ 'safe-buffer': { Buffer } });
  const { prototype } = decoderModule.StringDecoder as StringDecoderClass;
  const { write, end } = prototype;
  const asBuffer = (bytes: unknown) => (ArrayBufferIsView(bytes) && !Buffer.isBuffer(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
  prototype.write = function (bytes) {
    return ReflectApply(write, this, [asBuffer(bytes)]);
  };
  prototype.end = function (bytes) {
    return ReflectApply(end, this, bytes === undefined ? [] : [asBuffer(bytes)]);
  };
  return moduleOf(decoderModule);
}

/**
 * node:stream: Node's streams as readable-stream publishes them, over this runtime's node:buffer,
 * node:events, node:process (its nextTick) and node:string_decoder. The module is the legacy `Stream`,
 * as in Node, with Readable, Writable, … and `promises` on it.
 */
export function loadStream(builtin: (name: string) => ModuleExports): ModuleExports {
  const { AbortController, AbortSignal } = globalThisRef as { AbortController?: unknown; AbortSignal?: unknown };
  const readable = loadChunk<MakeModule>('node-stream').make({
    buffer: builtin('node:buffer').default,
    events: builtin('node:events').default,
    'process/': builtin('node:process').default,
    'abort-controller': { AbortController, AbortSignal },
    'string_decoder/': builtin('node:string_decoder').default,
  });
  return moduleOf(readable.Stream as ModuleExports);
}

export function loadStreamPromises(builtin: (name: string) => ModuleExports): ModuleExports {
  return moduleOf(builtin('node:stream').promises as ModuleExports);
}

/** node:url's helpers over this runtime's own URL classes and UTS #46 tables. */
export function loadUrl(builtin: (name: string) => ModuleExports): ModuleExports {
  const { URL, URLSearchParams } = urlClasses();
  const querystring = builtin('node:querystring') as { parse(text: string): object; stringify(query: object): string; escape(text: string): string };
  const platform = {
    URL,
    URLSearchParams,
    toUnicode,
    // The legacy parser's IDNA: UTS #46 alone, with the URL Standard's options (no IPv4 rewriting).
    toASCII: (domain: string) => toASCII(domain, { checkHyphens: false, checkBidi: true, checkJoiners: true, useSTD3ASCIIRules: false, processingOption: 'nontransitional', verifyDNSLength: false }) ?? '',
    parseQuery: (text: string) => querystring.parse(text),
    stringifyQuery: (query: object) => querystring.stringify(query),
    escape: (text: string) => querystring.escape(text),
  } as unknown as UrlPlatform;
  return moduleOf(loadChunk<{ makeUrl(platform: UrlPlatform): ModuleExports }>('node-url').makeUrl(platform));
}

/** node:querystring over node:buffer's Buffer (for `unescapeBuffer`). */
export function loadQuerystring(builtin: (name: string) => ModuleExports): ModuleExports {
  const platform = { Buffer: builtin('node:buffer').Buffer, decodeUtf8: utf8DecodeWithoutBOM } as unknown as QuerystringPlatform;
  return moduleOf(loadChunk<{ makeQuerystring(platform: QuerystringPlatform): ModuleExports }>('node-querystring').makeQuerystring(platform));
}

/** node:timers over the runtime's own timers (a worker may have replaced the globals). */
export function loadTimers(): ModuleExports {
  const platform = { setTimeout, setInterval, clearTimeout } as unknown as TimersPlatform;
  return moduleOf(loadChunk<{ makeTimers(platform: TimersPlatform): { timers: ModuleExports } }>('node-timers').makeTimers(platform).timers);
}

/** node:timers/promises: node:timers' `promises`, one object. */
export function loadTimersPromises(builtin: (name: string) => ModuleExports): ModuleExports {
  return moduleOf(builtin('node:timers').promises as ModuleExports);
}

/** node:diagnostics_channel; a subscriber's error is reported as uncaught once the publish is done. */
export function loadDiagnosticsChannel(): ModuleExports {
  const platform: DiagnosticsChannelPlatform = { reportLater: (error) => queueMicrotask(() => reportError(error)) };
  return moduleOf(loadChunk<{ makeDiagnosticsChannel(platform: DiagnosticsChannelPlatform): ModuleExports }>('node-diagnostics-channel').makeDiagnosticsChannel(platform));
}

/** node:zlib over the runtime's own codecs (CompressionStream's), node:buffer's Buffer and node:stream's Transform. */
export function loadZlib(builtin: (name: string) => ModuleExports): ModuleExports {
  const later = (callback: () => void) => void setTimeout(callback, 0);
  const platform = { Compressor, Decompressor, crc32, Buffer: builtin('node:buffer').Buffer, Transform: builtin('node:stream').Transform, later } as unknown as ZlibPlatform;
  return moduleOf(loadChunk<{ makeZlib(platform: ZlibPlatform): ModuleExports }>('node-zlib').makeZlib(platform));
}

/**
 * A Node.js module workers can import but not use (node:fs, node:net, ...: the node-stubs chunk), or
 * null when there is none by that name.
 */
export function loadStub(name: string, builtin: (name: string) => ModuleExports, getBuiltinModule: (id: string) => unknown): ModuleExports | null {
  const chunk = loadChunk<{ makeStubModule(name: string, spec: StubModule, platform: StubsPlatform): ModuleExports; specs: Record<string, StubModule> }>('node-stubs');
  if (!ObjectHasOwn(chunk.specs, name)) return null;
  const platform: StubsPlatform = { builtin: (other) => builtin(other).default, runtime: { performance, ...moduleFunctions(getBuiltinModule) } };
  return moduleOf(chunk.makeStubModule(name, chunk.specs[name]!, platform));
}

/**
 * node:module's `createRequire` and `isBuiltin`, for the built-in modules alone: ESM packages written for
 * Node make a `require` at their top level, and a require of a built-in is what they use it for here.
 */
function moduleFunctions(getBuiltinModule: (id: string) => unknown): Record<string, unknown> {
  const isBuiltin = (id: unknown) => typeof id === 'string' && getBuiltinModule(id) !== undefined;
  const notFound = (id: unknown) => {
    const error = new ErrorCtor(`Cannot find module '${id as string}'`);
    defineValue(error, 'code', 'MODULE_NOT_FOUND', WRITABLE | ENUMERABLE | CONFIGURABLE);
    return error;
  };
  function createRequire(_filename: unknown) {
    const require = (id: unknown) => {
      if (!isBuiltin(id)) throw notFound(id);
      return getBuiltinModule(id as string);
    };
    require.resolve = (id: unknown) => {
      if (!isBuiltin(id)) throw notFound(id);
      return id;
    };
    require.cache = ObjectCreate(null);
    return require;
  }
  return { createRequire, isBuiltin };
}

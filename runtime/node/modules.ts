/**
 * The Node.js built-in modules of nodejs_compat (`node:buffer`, `node:events`, `node:path`,
 * `node:util`), each made from its runtime chunk on the first import (runtime/builtin-modules.ts).
 */
import { loadChunk } from '../chunks.ts';
import { atob, btoa } from '../global/base64.ts';
import { Utf8Decoder } from '../encoding/utf8.ts';
import { globalThisRef, ObjectFreeze, ObjectHasOwn, TypeErrorCtor } from '../primordials.ts';

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
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeErrorCtor('The "input" argument must be an ArrayBuffer, a Buffer, a TypedArray or a DataView');
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

export function loadPath(): ModuleExports {
  const path = loadChunk<ModuleExports>('node-path');
  // Node's posix path has it too, as the identity (path-browserify calls it _makeLong).
  path.toNamespacedPath ??= path._makeLong;
  const exports: ModuleExports = { default: path };
  for (const key in path) if (ObjectHasOwn(path, key)) exports[key] = path[key];
  return exports;
}

export function loadUtil(): ModuleExports {
  const util = loadChunk<ModuleExports>('node-util');
  const exports: ModuleExports = { default: util };
  for (const key in util) if (ObjectHasOwn(util, key)) exports[key] = util[key];
  return exports;
}

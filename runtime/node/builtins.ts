/**
 * The Node.js built-in modules a worker with the `nodejs_compat` compatibility flag may import
 * (`node:buffer`, `node:events`, `node:path`, `node:util`). The host links such an import to a small
 * module of its own (src/isolates/builtin-modules.ts) that reads the exports from here through
 * `__isolaneBuiltinModule(specifier)`, a global that hands out nothing but these modules and is deleted
 * once the worker's modules have run (install, entry.ts), like the boot hook: a worker's own top-level
 * code could replace it, and fool only its own later imports. Each module comes from a runtime chunk,
 * loaded on the first import: isolates that import none pay nothing.
 *
 * The export names each module's link offers are listed host-side; test/runtime/node-builtins.test.ts
 * checks the two agree.
 */
import { loadChunk } from '../chunks.ts';
import { atob, btoa } from '../global/base64.ts';
import { Utf8Decoder } from '../encoding/utf8.ts';
import {
  CONFIGURABLE,
  defineValue,
  globalThisRef,
  ObjectCreate,
  ObjectFreeze,
  ObjectHasOwn,
  ReflectDeleteProperty,
  TypeErrorCtor,
} from '../primordials.ts';

type ModuleExports = Record<string, unknown>;

const modules: Record<string, ModuleExports> = ObjectCreate(null);

const loaders: Record<string, () => ModuleExports> = {
  __proto__: null as never,
  'node:buffer': loadBuffer,
  'node:events': loadEvents,
  'node:path': loadPath,
  'node:util': loadUtil,
};

function builtinModule(specifier: unknown): ModuleExports {
  const name = `${specifier as string}`;
  const load = loaders[name];
  if (load === undefined) throw new TypeErrorCtor(`No such built-in module: ${name}`);
  return (modules[name] ??= load());
}

interface BufferChunk {
  Buffer: { byteLength(string: string, encoding?: string): number } & Function;
  SlowBuffer: Function;
  INSPECT_MAX_BYTES: number;
  kMaxLength: number;
}

function loadBuffer(): ModuleExports {
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

function loadEvents(): ModuleExports {
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

function loadPath(): ModuleExports {
  const path = loadChunk<ModuleExports>('node-path');
  // Node's posix path has it too, as the identity (path-browserify calls it _makeLong).
  path.toNamespacedPath ??= path._makeLong;
  const exports: ModuleExports = { default: path };
  for (const key in path) if (ObjectHasOwn(path, key)) exports[key] = path[key];
  return exports;
}

function loadUtil(): ModuleExports {
  const util = loadChunk<ModuleExports>('node-util');
  const exports: ModuleExports = { default: util };
  for (const key in util) if (ObjectHasOwn(util, key)) exports[key] = util[key];
  return exports;
}

export function installBuiltinModules(): void {
  defineValue(globalThisRef, '__isolaneBuiltinModule', builtinModule, CONFIGURABLE);
}

export function removeBuiltinModuleHook(): void {
  ReflectDeleteProperty(globalThisRef, '__isolaneBuiltinModule');
}

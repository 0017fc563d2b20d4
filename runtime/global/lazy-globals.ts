/**
 * Event, EventTarget, CustomEvent, ErrorEvent, MessageEvent, CloseEvent, PromiseRejectionEvent, AbortController, AbortSignal, Blob, File, FormData, CompressionStream,
 * DecompressionStream, the Cache API (caches, Cache, CacheStorage), WebSocket, WebSocketPair, FinalizationRegistry and SubtleCrypto (whose methods make a runtime
 * chunk, runtime/crypto/web-crypto.ts, when first called) are defined on first use: each module keeps its classes in a define…() function
 * that its load…() calls once. An isolate that never touches them pays neither for defining the classes
 * nor for their compiled code in the code cache (installed eagerly they cost ~0.25 ms of every isolate's
 * setup).
 *
 * (esbuild's own lazy `require()` is not used: it would wrap every module the required ones import,
 * primordials.ts included, in a lazily compiled function, and setup would get slower, not faster. The
 * exception is compression/fflate.ts, which imports fflate and nothing of the runtime.)
 *
 * Rule: runtime code never constructs these classes with `new` at module level; module functions that
 * need a brand check return false while the class is not defined (no instance can exist before).
 */
import { defineLazyGlobal } from './define.ts';
import { loadAbort } from '../events/abort.ts';
import { loadEvents } from '../events/event.ts';
import { loadBlob } from '../http/blob.ts';
import { loadFormData } from '../http/form-data.ts';
import { loadCompression } from '../compression/compression-streams.ts';
import { loadCache } from '../workers/cache.ts';
import { loadWebSockets } from '../workers/websocket.ts';
import { loadSubtleCrypto } from '../crypto/subtle-crypto.ts';
import { loadFinalizationRegistry } from './finalization-registry.ts';

const LAZY_GLOBALS: [name: string, load: () => object][] = [
  ['Event', loadEvents],
  ['EventTarget', loadEvents],
  ['CustomEvent', loadEvents],
  ['ErrorEvent', loadEvents],
  ['MessageEvent', loadEvents],
  ['CloseEvent', loadEvents],
  ['PromiseRejectionEvent', loadEvents],
  ['AbortController', loadAbort],
  ['AbortSignal', loadAbort],
  ['Blob', loadBlob],
  ['File', loadBlob],
  ['FormData', loadFormData],
  ['CompressionStream', loadCompression],
  ['DecompressionStream', loadCompression],
  ['caches', loadCache],
  ['Cache', loadCache],
  ['CacheStorage', loadCache],
  ['WebSocket', loadWebSockets],
  ['WebSocketPair', loadWebSockets],
  ['SubtleCrypto', loadSubtleCrypto],
  ['FinalizationRegistry', loadFinalizationRegistry],
];

/**
 * Install the globals above as accessors that define their classes when first read; the first read
 * (or a write) replaces the accessor with an ordinary writable data property (as streams/web-streams.ts).
 */
export function installLazyGlobals(): void {
  for (let i = 0; i < LAZY_GLOBALS.length; i++) {
    const name = LAZY_GLOBALS[i]![0];
    const load = LAZY_GLOBALS[i]![1];
    defineLazyGlobal(name, () => (load() as Record<string, unknown>)[name]);
  }
}

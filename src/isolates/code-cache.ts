/**
 * V8 code cache for scripts and modules, per executor thread. The cache is produced here, by the host,
 * from code the host compiled; it is never accepted from users (cachedData is machine code).
 * Bounded by bytes, least recently used first: a 100 KB Hono bundle's cache is 40-80 KB, and a thread
 * may see thousands of versions. Modules' caches are also kept on disk (code-cache-files.ts), where other
 * processes, and this one after a restart, find them.
 */
import ivm from './isolated-vm.ts';
import { LRUCache } from 'lru-cache';
import type { CodeCacheFiles } from './code-cache-files.ts';

const MAX_BYTES = 32 * 1024 * 1024;
const MODULE_PREFIX = 'module:';

interface Entry {
  data: ivm.ExternalCopy<ArrayBuffer>;
  bytes: number;
  /** Written to (or read from) disk. */
  saved: boolean;
}

const entries = new LRUCache<string, Entry>({
  maxSize: MAX_BYTES,
  sizeCalculation: (entry) => Math.max(1, entry.bytes),
  dispose: (entry) => entry.data.release(),
});
let files: CodeCacheFiles | null = null;

export type Compiled = { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean };

/** What isolated-vm set on a compile's result about the code cache (its types leave these fields out). */
export function compileResult(result: ivm.Script | ivm.Module): Compiled {
  return result as unknown as Compiled;
}

/** Where this thread keeps modules' caches on disk (null: memory only). */
export function keepCodeCacheFiles(where: CodeCacheFiles | null): void {
  files = where;
}

/** The key of a module's cache: the only keys kept on disk. */
export function moduleCacheKey(versionId: string, moduleName: string): string {
  return `${MODULE_PREFIX}${versionId}:${moduleName}`;
}

/** Compile options that use the cache for `key` if present and ask V8 for one otherwise. */
export function cacheOptions(key: string): { cachedData?: ivm.ExternalCopy<ArrayBuffer>; produceCachedData: boolean } {
  const cachedData = cachedCode(key);
  return cachedData ? { cachedData, produceCachedData: false } : { produceCachedData: true };
}

/** The cache kept for `key`, from memory or else from disk. */
export function cachedCode(key: string): ivm.ExternalCopy<ArrayBuffer> | undefined {
  const kept = entries.get(key)?.data;
  if (kept) return kept;
  const module = moduleOf(key);
  const bytes = module && files?.read(module.versionId, module.name);
  if (!bytes) return undefined;
  const data = new ivm.ExternalCopy(bytes, { transferOut: true });
  entries.set(key, { data, bytes: bytes.byteLength, saved: true });
  return data;
}

/** Keep what V8 produced for `key` (no-op when nothing new was produced); forget a rejected cache. */
export function rememberCache(key: string, compiled: Compiled): void {
  if (compiled.cachedDataRejected) {
    entries.delete(key);
    const module = moduleOf(key);
    if (module) files?.remove(module.versionId, module.name);
  } else if (compiled.cachedData && !entries.has(key)) {
    keep(key, compiled.cachedData);
  }
}

/**
 * Keep what V8 produced for `key` in place of what was kept (a cache made after more code had run), and
 * save it: only versions that have served are remade.
 */
export function replaceCache(key: string, compiled: Compiled): void {
  if (!compiled.cachedData) return;
  keep(key, compiled.cachedData);
  saveCache(key);
}

/** replaceCache, if `expected` is still what is kept for `key` (not made again or dropped since). */
export function replaceCacheIfKept(key: string, expected: ivm.ExternalCopy<ArrayBuffer>, compiled: Compiled): void {
  if (entries.peek(key)?.data === expected) replaceCache(key, compiled);
  else compiled.cachedData?.release();
}

/** Versions whose caches stay in memory: never stored, so no other process will build them. */
const offDisk = new Set<string>();

export function keepOffDisk(versionId: string): void {
  offDisk.add(versionId);
}

/** Write the cache kept for `key` to disk unless it is there already (a version that built). */
export function saveCache(key: string): void {
  const entry = entries.get(key);
  const module = moduleOf(key);
  if (!entry || entry.saved || !module || !files || offDisk.has(module.versionId)) return;
  entry.saved = true;
  files.write(module.versionId, module.name, entry.data.copy());
}

/** Drop a version's caches (it is no longer live), in memory and on disk. */
export function forgetVersionCache(versionId: string): void {
  const prefix = moduleCacheKey(versionId, '');
  for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
  files?.removeVersion(versionId);
}

function keep(key: string, data: ivm.ExternalCopy<ArrayBuffer>): void {
  entries.set(key, { data, bytes: data.copy().byteLength, saved: false });
}

function moduleOf(key: string): { versionId: string; name: string } | null {
  if (!key.startsWith(MODULE_PREFIX)) return null;
  const colon = key.indexOf(':', MODULE_PREFIX.length);
  return colon > 0 ? { versionId: key.slice(MODULE_PREFIX.length, colon), name: key.slice(colon + 1) } : null;
}

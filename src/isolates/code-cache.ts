/**
 * V8 code cache for scripts and modules, per executor thread. The cache is produced here, by the host,
 * from code the host compiled; it is never accepted from users (cachedData is machine code).
 * Bounded by bytes, least recently used first: a 100 KB Hono bundle's cache is 40-80 KB, and a thread
 * may see thousands of versions.
 */
import ivm from 'isolated-vm';
import { LRUCache } from 'lru-cache';

const MAX_BYTES = 32 * 1024 * 1024;

const entries = new LRUCache<string, { data: ivm.ExternalCopy<ArrayBuffer>; bytes: number }>({
  maxSize: MAX_BYTES,
  sizeCalculation: (entry) => Math.max(1, entry.bytes),
  dispose: (entry) => entry.data.release(),
});

type Compiled = { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean };

/** Compile options that use the cache for `key` if present and ask V8 for one otherwise. */
export function cacheOptions(key: string): { cachedData?: ivm.ExternalCopy<ArrayBuffer>; produceCachedData: boolean } {
  const cachedData = cachedCode(key);
  return cachedData ? { cachedData, produceCachedData: false } : { produceCachedData: true };
}

/** The cache kept for `key`, if any. */
export function cachedCode(key: string): ivm.ExternalCopy<ArrayBuffer> | undefined {
  return entries.get(key)?.data;
}

/** Keep what V8 produced for `key` (no-op when nothing new was produced); forget a rejected cache. */
export function rememberCache(key: string, compiled: Compiled): void {
  if (compiled.cachedDataRejected) entries.delete(key);
  else if (compiled.cachedData && !entries.has(key)) keep(key, compiled.cachedData);
}

/** Keep what V8 produced for `key` in place of what was kept (a cache made after more code had run). */
export function replaceCache(key: string, compiled: Compiled): void {
  if (compiled.cachedData) keep(key, compiled.cachedData);
}

/** Drop every entry whose key starts with `prefix` (a version that is no longer live). */
export function forgetCache(prefix: string): void {
  for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
}

function keep(key: string, data: ivm.ExternalCopy<ArrayBuffer>): void {
  entries.set(key, { data, bytes: data.copy().byteLength });
}

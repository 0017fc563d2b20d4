/**
 * V8 code cache for scripts and modules, per executor thread. The cache is produced here, by the host,
 * from code the host compiled; it is never accepted from users (cachedData is machine code).
 */
import ivm from 'isolated-vm';

const entries = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();

/** Compile options that use the cache for `key` if present and ask V8 for one otherwise. */
export function cacheOptions(key: string): { cachedData?: ivm.ExternalCopy<ArrayBuffer>; produceCachedData: boolean } {
  const cachedData = entries.get(key);
  return cachedData ? { cachedData, produceCachedData: false } : { produceCachedData: true };
}

/** The cache kept for `key`, if any. */
export function cachedCode(key: string): ivm.ExternalCopy<ArrayBuffer> | undefined {
  return entries.get(key);
}

/** Keep what V8 produced for `key` (no-op when nothing new was produced). */
export function rememberCache(key: string, compiled: { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean }): void {
  if (compiled.cachedDataRejected) entries.delete(key);
  else if (compiled.cachedData && !entries.has(key)) entries.set(key, compiled.cachedData);
}

/** Drop every entry whose key starts with `prefix` (a version that is no longer live). */
export function forgetCache(prefix: string): void {
  for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
}

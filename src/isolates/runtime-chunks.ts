/**
 * Runs a runtime chunk (runtime-bundle.ts) in an isolate when its runtime first needs it (bridge op
 * `runtimeChunk`, answered inside the same slice): the host compiles the chunk's script from the thread's
 * code cache, runs it in the isolate's context and hands its exports to the runtime with
 * `dispatch('chunk', name, exports)` (runtime/chunks.ts). A `new Function` in the isolate could use no
 * cache: the web-streams chunk (62 KB), which any worker touching a body stream loads (Hono's middleware
 * does), cost ~3 ms to compile in every isolate, and ~4 ms more to run while V8 compiled its functions.
 * The executor's warm-up (runtime-warmup.ts) makes web streams' cache after using them.
 */
import ivm from './isolated-vm.ts';
import { cacheOptions, compileResult, rememberCache, replaceCache } from './code-cache.ts';

const cacheKey = (name: string) => `chunk:${name}`;
const filename = (name: string) => `isolane:chunk:${name}`;

/** Returns whether the chunk was compiled from the thread's code cache. */
export function runChunk(
  isolate: ivm.Isolate,
  context: ivm.Context,
  dispatch: ivm.Reference<(...args: unknown[]) => unknown>,
  name: string,
  source: string | undefined,
): boolean {
  if (source === undefined) throw new TypeError(`no runtime chunk named ${name}`);
  const options = cacheOptions(cacheKey(name));
  const script = isolate.compileScriptSync(source, { filename: filename(name), ...options });
  const compiled = compileResult(script);
  rememberCache(cacheKey(name), compiled);
  const exports = script.runSync(context, { reference: true }) as ivm.Reference<unknown>;
  try {
    dispatch.applySync(undefined, ['chunk', name, exports.derefInto()]);
  } finally {
    exports.release();
  }
  return options.cachedData !== undefined && compiled.cachedDataRejected !== true;
}

/**
 * Keeps chunk `name`'s cache made again in an isolate that has run and used it: compiling the same
 * source again hits the isolate's compilation cache, with every function compiled since.
 */
export function recacheChunk(isolate: ivm.Isolate, name: string, source: string): void {
  const again = isolate.compileScriptSync(source, { filename: filename(name), produceCachedData: true });
  replaceCache(cacheKey(name), compileResult(again));
}

/**
 * Compiles a version's modules into an isolate and links them: relative specifiers resolve against the
 * importing module's name, Node.js built-in ones to the runtime's (builtin-modules.ts); anything else
 * (bare names, URLs, missing files) is a deploy error.
 * Text, JSON and data modules become ES modules with a default export.
 */
import { posix } from 'node:path';
import ivm from './isolated-vm.ts';
import { IsolaneError } from '../errors.ts';
import type { Version, WorkerModule } from '../types.ts';
import { builtinModuleName, builtinModuleSource } from './builtin-modules.ts';
import { cachedCode, cacheOptions, compileResult, moduleCacheKey, rememberCache, replaceCache, replaceCacheIfKept, saveCache } from './code-cache.ts';
import { isolateNatives } from '../limits/watchdog.ts';
import { WorkUnderWay } from './work-under-way.ts';

/** The scratch isolate of saveEagerCodeCaches: compiles only (a 256 KB module's functions: a few MB at most). */
const SCRATCH_MEMORY_MB = 128;

export function resolveSpecifier(specifier: string, importer: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const joined = posix.normalize(posix.join(posix.dirname(importer), specifier));
  return joined.startsWith('../') || joined.startsWith('/') ? null : joined;
}

/**
 * isolated-vm 7 hands the resolver a specifier's UTF-8 bytes read as Latin-1 (`./ünï.js` arrives as
 * `./Ã¼nÃ¯.js`), so an import of a module with a non-ASCII name never found it. Read back as UTF-8 when
 * that is what the characters spell; a specifier that is not left as it is.
 */
function specifierAsWritten(given: string): string {
  if (!/[\u0080-\u00ff]/.test(given) || /[^\u0000-\u00ff]/.test(given)) return given;
  const bytes = Buffer.from(given, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : given;
}

function moduleSource(module: WorkerModule): string {
  switch (module.type) {
    case 'esm':
      return module.content;
    case 'text':
      return `export default ${JSON.stringify(module.content)};`;
    case 'json':
      return `export default JSON.parse(${JSON.stringify(module.content)});`;
    case 'data':
      return `const s = atob(${JSON.stringify(module.content)}); const b = new Uint8Array(s.length);
for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
export default b.buffer;`;
  }
}

/** Turns V8's `message [file:line:col]` into a deploy error carrying module, line and column. */
export function syntaxError(err: unknown, moduleName: string): IsolaneError {
  const message = err instanceof Error ? err.message : String(err);
  const where = /\[(?:[^\]]*?):(\d+):(\d+)\]$/.exec(message);
  const text = message.replace(/\s*\[[^\]]*\]$/, '');
  const line = where ? Number(where[1]) : undefined;
  const column = where ? Number(where[2]) : undefined;
  return new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', `${moduleName}${line ? `:${line}:${column}` : ''}: ${text}`, {
    details: { module: moduleName, line, column },
  });
}

/**
 * The addon's `primeModule(source, filename, cache)`: compiles a module from a code cache into the
 * isolate's compilation cache, where isolated-vm's compileModule finds it (isolated-vm 7 ignores a
 * module's cachedData). Returns true when V8 rejected the cache.
 */
export type ModulePrimer = ivm.Reference<(source: string, filename: string, cache: ArrayBuffer) => boolean>;

export interface LinkedModules {
  main: ivm.Module;
  /** How many of the modules were compiled from this thread's code cache. */
  fromCache: number;
  /** How many were compiled from source (modules nothing imports are not compiled at all). */
  fromSource: number;
  /** The Node.js built-in modules linked for the imports (`node:…`). */
  nodeBuiltins: string[];
}

/**
 * Compile the main module and everything it imports and link them. A module this
 * thread has compiled before comes from its code cache when `primeModule` is there to consume it.
 */
export function linkModules(isolate: ivm.Isolate, context: ivm.Context, version: Version, primeModule: ModulePrimer | null): LinkedModules {
  let fromCache = 0;
  const byName = new Map(version.modules.map((m) => [m.name, m]));
  const compiled = new Map<string, ivm.Module>();
  const names = new Map<ivm.Module, string>();
  const nodeBuiltins = new Set<string>();

  const compile = (name: string, builtin = false): ivm.Module => {
    const existing = compiled.get(name);
    if (existing) return existing;
    const source = builtin ? undefined : byName.get(name);
    if (!source && !builtin) throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `module not found: ${name}`, { details: { module: name } });
    // A built-in module's link is the same for every version: one cache entry for all of them.
    const cacheKey = builtin ? `builtin:${name}` : moduleCacheKey(version.id, name);
    const code = source ? moduleSource(source) : builtinModuleSource(name);
    let cache = cachedCode(cacheKey);
    if (cache && primeModule) {
      if (primeModule.applySync(undefined, [code, name, cache.copyInto()])) {
        // Made by another V8 or for other flags: this compile makes the one to keep.
        rememberCache(cacheKey, { cachedDataRejected: true });
        cache = undefined;
      } else {
        fromCache++;
      }
    }
    let module: ivm.Module;
    try {
      module = isolate.compileModuleSync(code, { filename: name, produceCachedData: !cache });
    } catch (err) {
      throw syntaxError(err, name);
    }
    rememberCache(cacheKey, compileResult(module));
    compiled.set(name, module);
    names.set(module, name);
    return module;
  };

  const main = compile(version.main);
  // isolated-vm rethrows a resolver's error as a plain Error: keep ours to rethrow it with its code.
  let linkError: unknown = null;
  try {
    main.instantiateSync(context, (given, referrer) => {
      try {
        const specifier = specifierAsWritten(given);
        const importer = names.get(referrer) ?? version.main;
        const builtin = builtinModuleName(specifier, importer, version);
        if (builtin !== null) {
          if (builtin.startsWith('node:')) nodeBuiltins.add(builtin);
          return compile(builtin, true);
        }
        const resolved = resolveSpecifier(specifier, importer);
        if (resolved === null) {
          throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `cannot import "${specifier}" from ${importer}: only relative imports of uploaded modules are supported`, { details: { module: importer, specifier } });
        }
        return compile(resolved);
      } catch (err) {
        linkError = err;
        throw err;
      }
    });
  } catch (err) {
    throw linkError ?? new IsolaneError('ISO_ERR_DEPLOY_STARTUP', err instanceof Error ? err.message : String(err));
  }
  return { main, fromCache, fromSource: compiled.size - fromCache, nodeBuiltins: [...nodeBuiltins] };
}

/**
 * A service-worker script (the version's main module run as a classic script), compiled from this
 * thread's code cache when there is one (isolated-vm consumes a script's cache itself).
 */
export function compileServiceWorker(isolate: ivm.Isolate, version: Version): { script: ivm.Script; fromCache: boolean } {
  const source = version.modules.find((m) => m.name === version.main)!;
  const cacheKey = moduleCacheKey(version.id, source.name);
  const options = cacheOptions(cacheKey);
  let script: ivm.Script;
  try {
    script = isolate.compileScriptSync(source.content, { filename: source.name, ...options });
  } catch (err) {
    throw syntaxError(err, source.name);
  }
  const compiled = compileResult(script);
  rememberCache(cacheKey, compiled);
  return { script, fromCache: options.cachedData !== undefined && compiled.cachedDataRejected !== true };
}

/**
 * Makes the version's code cache again from an isolate that has served a request. V8 compiles a function
 * on its first call, so a cache made at compile time holds little more than the top-level code; compiled
 * again here, the same source comes from the isolate's compilation cache with every function compiled
 * since (Hono's first request: ~2 ms less in the next isolate, top-level code ~1 ms less).
 */
export function recacheModules(isolate: ivm.Isolate, version: Version): void {
  for (const module of version.modules) {
    const cacheKey = moduleCacheKey(version.id, module.name);
    if (!cachedCode(cacheKey)) continue;
    const options = { filename: module.name, produceCachedData: true };
    const again = version.syntax === 'module' ? isolate.compileModuleSync(moduleSource(module), options) : isolate.compileScriptSync(module.content, options);
    replaceCache(cacheKey, compileResult(again));
  }
}

/** Scratch isolates at work (saveEagerCodeCaches). */
const eagerWork = new WorkUnderWay();

/**
 * Makes, keeps and saves, for each module the version compiled (or its service-worker script), a code
 * cache with every function compiled: for the version's next isolate, after a restart or an eviction,
 * before it has served. V8 compiles a function on its first call, so a cache made from the isolate a
 * deploy built holds little more than the top-level code, and that isolate's first request compiles
 * what it calls (Hono's 2.4 → 1.3 ms of CPU with this cache). The deploy's own isolate stays lazy: its
 * idle upkeep calls this (executor.ts) unless it has served, and once it has, makes the cache again from
 * what it compiled (recacheModules), so isolates of a version that has served hold only the functions it
 * used (Hono: ~120 KB less heap). In a scratch isolate (in the version's, V8's compilation cache would
 * keep the compile: ~330 KB for Hono) and on isolated-vm's threads (Hono's 110 KB: ~5 ms); only
 * `new ivm.Isolate` (~1.5 ms) holds this thread. A cache made again or dropped meanwhile is left as it is.
 */
export function saveEagerCodeCaches(version: Version): void {
  const isModule = version.syntax === 'module';
  const kept = version.modules.flatMap((module) => {
    const key = moduleCacheKey(version.id, module.name);
    const cache = cachedCode(key);
    return cache ? [{ key, module, cache }] : [];
  });
  if (kept.length === 0) return;
  let scratch: ivm.Isolate;
  try {
    scratch = new ivm.Isolate({ memoryLimit: SCRATCH_MEMORY_MB });
  } catch {
    return; // the caches made at compile time stay
  }
  const work = (async () => {
    const natives = isolateNatives(await scratch.createContext());
    const eagerCodeCache = natives.getSync('eagerCodeCache', { reference: true }) as ivm.Reference<(source: string, filename: string, isModule: boolean) => ArrayBuffer | undefined>;
    if (eagerCodeCache.typeof !== 'function') return;
    for (const { key, module, cache } of kept) {
      // The source each syntax compiles (linkModules, compileServiceWorker): the cache is checked against it.
      const source = isModule ? moduleSource(module) : module.content;
      const bytes = await eagerCodeCache.apply(undefined, [source, module.name, isModule], { result: { copy: true } });
      if (bytes instanceof ArrayBuffer) replaceCacheIfKept(key, cache, { cachedData: new ivm.ExternalCopy(bytes, { transferOut: true }) });
    }
  })()
    .catch(() => {
      // The cache made at compile time stays: a first request is only slower.
    })
    .finally(() => {
      if (!scratch.isDisposed) scratch.dispose();
    });
  eagerWork.add(work);
}

/** Settles once no scratch isolate of saveEagerCodeCaches is at work. */
export function eagerCachesSettled(): Promise<void> {
  return eagerWork.settled();
}

/** Saves the version's caches for other processes (code-cache-files.ts), once it has built: never a failed upload's. */
export function saveModuleCaches(version: Version): void {
  for (const module of version.modules) saveCache(moduleCacheKey(version.id, module.name));
}

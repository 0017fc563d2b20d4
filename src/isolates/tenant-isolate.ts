/**
 * One isolate running one version of a worker: created from the runtime bundle and the version's
 * modules, entered only through synchronous timed calls to the runtime's `dispatch`.
 *
 * Duties:
 * - build: fresh isolate + context, runtime bundle, boot the bridge, link modules, run top-level code
 *   under the startup limit, install the fetch handler;
 * - enter: one timed `dispatch` call, measured with the thread's CPU clock;
 * - report heap use, give memory back when idle (`reduceMemory`), and dispose.
 */
import ivm from './isolated-vm.ts';
import { IsolaneError } from '../errors.ts';
import type { Binding, Version } from '../types.ts';
import { threadCpuUs } from '../limits/thread-cpu.ts';
import { sliceFailure, type SliceFailure } from '../limits/slice-outcome.ts';
import { asPlatformWork, forgetIsolate, PLATFORM_WORK_EXEMPT_PER_ISOLATE_US, runWatched, SliceStopped, tenantCpuUs, watchIsolate, type PlatformAllowance } from '../limits/watchdog.ts';
import type { Outcome } from '../types.ts';
import { cachedCode, cacheOptions, compileResult, rememberCache } from './code-cache.ts';
import { compileServiceWorker, linkModules, recacheModules, saveEagerCodeCaches, saveModuleCaches, type ModulePrimer } from './module-graph.ts';
import { hasNodeCompat, processEnvJson } from './builtin-modules.ts';
import type { RuntimeBundle } from './runtime-bundle.ts';
import { runChunk } from './runtime-chunks.ts';

/** What a bridge call from the runtime looks like to the host. */
export type HostCallHandler = (op: string, args: unknown[]) => unknown;

/** CPU a worker's top-level code may use while it starts. */
export const STARTUP_CPU_MS = 1000;

export interface SliceResult {
  cpuUs: number;
  /** null when the call returned normally. */
  failure: SliceFailure | null;
  /** The thrown error's text when failure is `uncaught`. */
  error?: string;
}

/**
 * An isolate with the runtime loaded and booted but no worker yet: the part of a cold start that is the
 * same for every worker, done ahead of time (see spare-isolates.ts). Its host callback is routed to the
 * handler of the worker that takes it.
 */
export class PreparedIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly dispatch: ivm.Reference<(...args: unknown[]) => unknown>;
  readonly memoryMb: number;
  /** The isolate's id with the slice watchdog (src/limits/watchdog.ts). */
  readonly watchId: number;
  /** The addon's garbage collection that returns memory (null when the addon was built without it). */
  readonly reduceMemory: ivm.Reference<() => void> | null;
  /** The addon's module compile from a code cache (module-graph.ts; null when built without it). */
  readonly primeModule: ModulePrimer | null;
  handler: HostCallHandler | null = null;

  /** Made by create() and prepare() only. */
  constructor(
    isolate: ivm.Isolate,
    context: ivm.Context,
    dispatch: ivm.Reference<(...args: unknown[]) => unknown>,
    memoryMb: number,
    watchId: number,
    reduceMemory: ivm.Reference<() => void> | null,
    primeModule: ModulePrimer | null,
  ) {
    this.isolate = isolate;
    this.context = context;
    this.dispatch = dispatch;
    this.memoryMb = memoryMb;
    this.watchId = watchId;
    this.reduceMemory = reduceMemory;
    this.primeModule = primeModule;
  }

  /** Prepared on the calling thread: for a cold start that found no spare. */
  static create(runtime: RuntimeBundle, memoryMb: number, onCatastrophicError: (message: string) => void): PreparedIsolate {
    const isolate = new ivm.Isolate({ memoryLimit: memoryMb, onCatastrophicError });
    const setup = new Setup(isolate, runtime);
    try {
      const context = isolate.createContextSync();
      const runScript = setup.watch(context);
      runRuntime(isolate, context, runtime.script, runScript);
      const boot = setup.boot();
      const dispatch = boot.applySync(undefined, setup.bootArgs(), { result: { reference: true } });
      boot.release();
      return setup.done(dispatch, memoryMb);
    } catch (err) {
      setup.fail();
      throw err;
    }
  }

  /**
   * The same, with the context, the runtime's run and its boot done on isolated-vm's own threads
   * (~4 of ~6.5 ms): only `new ivm.Isolate`, which has no asynchronous form, holds the calling thread.
   * For spare isolates (spare-isolates.ts): their preparation no longer holds up the requests that
   * arrive meanwhile.
   */
  static async prepare(runtime: RuntimeBundle, memoryMb: number, onCatastrophicError: (message: string) => void): Promise<PreparedIsolate> {
    const isolate = new ivm.Isolate({ memoryLimit: memoryMb, onCatastrophicError });
    const setup = new Setup(isolate, runtime);
    try {
      const context = await isolate.createContext();
      const runScript = setup.watch(context);
      if (runScript) await runRuntimeAsync(runtime.script, runScript);
      else runRuntime(isolate, context, runtime.script, null);
      const boot = setup.boot();
      const dispatch = await boot.apply(undefined, setup.bootArgs(), { result: { reference: true } });
      boot.release();
      return setup.done(dispatch, memoryMb);
    } catch (err) {
      setup.fail();
      throw err;
    }
  }

  dispose(): void {
    forgetIsolate(this.watchId);
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

type DispatchRef = ivm.Reference<(...args: unknown[]) => unknown>;

/** The steps of PreparedIsolate.create and .prepare that are the same either way. */
class Setup {
  readonly #isolate: ivm.Isolate;
  readonly #runtime: RuntimeBundle;
  #context: ivm.Context | null = null;
  #watchId: number | undefined;
  #natives: ivm.Reference<Record<string, unknown>> | null = null;
  #reduceMemory: ivm.Reference<() => void> | null = null;
  #primeModule: ModulePrimer | null = null;
  #dispatch: DispatchRef | null = null;
  #prepared: PreparedIsolate | null = null;
  /** What this isolate's chunk loads may leave out of its tenant's clock in all (watchdog.ts). */
  readonly #chunkAllowance: PlatformAllowance = { leftUs: PLATFORM_WORK_EXEMPT_PER_ISOLATE_US };

  constructor(isolate: ivm.Isolate, runtime: RuntimeBundle) {
    this.#isolate = isolate;
    this.#runtime = runtime;
  }

  /** Registers the isolate with the watchdog; returns the addon's runScript for the runtime. */
  watch(context: ivm.Context): ivm.Reference<(...args: unknown[]) => boolean> | null {
    this.#context = context;
    const watched = watchIsolate(context);
    this.#watchId = watched.id;
    this.#natives = watched.natives;
    // The host keeps reduceMemory, primeModule and runScript; the runtime gets the rest of the natives.
    this.#reduceMemory = takeNative<() => void>(watched.natives, 'reduceMemory');
    this.#primeModule = takeNative(watched.natives, 'primeModule');
    // Used in scratch isolates only (module-graph.ts, saveEagerCodeCaches).
    takeNative(watched.natives, 'eagerCodeCache')?.release();
    return takeNative(watched.natives, 'runScript');
  }

  /** The runtime's single-use boot hook. */
  boot(): ivm.Reference<(...args: unknown[]) => unknown> {
    return this.#context!.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<(...args: unknown[]) => unknown>;
  }

  /** The boot hook's arguments: the host callback and the runtime's natives. */
  bootArgs(): ivm.Transferable[] {
    const isolate = this.#isolate;
    const context = this.#context!;
    const runtime = this.#runtime;
    // Runtime chunks are the runtime's own business: answered here, never by the executor's handler.
    // Their CPU is the platform's, not the tenant's whose first use of a feature loads one (watchdog.ts).
    const host = new ivm.Callback((op: string, ...args: unknown[]) => {
      try {
        if (op !== 'runtimeChunk') return this.#prepared?.handler?.(op, args);
        asPlatformWork(() => runChunk(isolate, context, this.#dispatch!, args[0] as string, runtime.chunks[args[0] as string]), this.#chunkAllowance);
        return undefined;
      } catch (error) {
        throw withoutHostFrames(error);
      }
    });
    return [host, this.#natives!.derefInto()];
  }

  done(dispatch: unknown, memoryMb: number): PreparedIsolate {
    this.#dispatch = dispatch as DispatchRef;
    this.#natives!.release();
    this.#prepared = new PreparedIsolate(this.#isolate, this.#context!, this.#dispatch, memoryMb, this.#watchId!, this.#reduceMemory, this.#primeModule);
    return this.#prepared;
  }

  fail(): void {
    if (this.#watchId !== undefined) forgetIsolate(this.#watchId);
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }
}

/** Takes a function off the addon's natives object (null when the addon was built without it). */
function takeNative<T>(natives: ivm.Reference<Record<string, unknown>>, name: string): ivm.Reference<T> | null {
  const fn = natives.getSync(name, { reference: true }) as ivm.Reference<T>;
  natives.deleteSync(name);
  if (fn.typeof === 'function') return fn;
  fn.release();
  return null;
}

const RUNTIME_FILENAME = 'isolane:runtime';
/** The runtime's source as one copy per thread: `runScript` hands each isolate a string that shares it. */
let sharedRuntime: { code: string; copy: ivm.ExternalCopy<string> } | null = null;

/**
 * Compiles and runs the runtime bundle, from the runtime's code cache when there is one. With the addon's
 * `runScript` the isolate's source string shares its bytes with every other isolate's (~160 KB of RSS
 * each otherwise: isolated-vm's compileScript copies the source into each isolate, and V8 keeps it).
 */
function runRuntime(isolate: ivm.Isolate, context: ivm.Context, runtimeCode: string, runScript: ivm.Reference<(...args: unknown[]) => boolean> | null): void {
  if (!runScript) {
    const runtime = isolate.compileScriptSync(runtimeCode, { filename: RUNTIME_FILENAME, ...cacheOptions('runtime') });
    rememberCache('runtime', compileResult(runtime));
    runtime.runSync(context);
    return;
  }
  const cache = cachedCode('runtime');
  const rejected = runScript.applySync(undefined, [sharedRuntimeCopy(runtimeCode).copyInto(), RUNTIME_FILENAME, cache?.copyInto()]);
  runScript.release();
  if (rejected) rememberCache('runtime', { cachedDataRejected: true });
}

/** runRuntime with the addon's runScript, run on isolated-vm's thread for the isolate. */
async function runRuntimeAsync(runtimeCode: string, runScript: ivm.Reference<(...args: unknown[]) => boolean>): Promise<void> {
  const source = sharedRuntimeCopy(runtimeCode);
  const cache = cachedCode('runtime');
  try {
    const rejected = await runScript.apply(undefined, [source.copyInto(), RUNTIME_FILENAME, cache?.copyInto()]);
    if (rejected) rememberCache('runtime', { cachedDataRejected: true });
  } finally {
    runScript.release();
  }
}

function sharedRuntimeCopy(runtimeCode: string): ivm.ExternalCopy<string> {
  if (sharedRuntime?.code !== runtimeCode) sharedRuntime = { code: runtimeCode, copy: new ivm.ExternalCopy(runtimeCode) };
  return sharedRuntime.copy;
}

/** After a fatal V8 error the process is in an unknown state (isolated-vm's advice: end it). */
export function exitOnCatastrophicError(message: string): void {
  // A serving process: the primary starts another, and only this process's in-flight requests are lost.
  process.emitWarning(`an isolate hit a catastrophic error: ${message}; the serving process exits`);
  process.exit(70);
}

/** The bindings the runtime makes objects for (host.d.ts 'bindings'), by the kind of object. */
const MADE_BINDINGS: Partial<Record<Binding['type'], string>> = { kv_namespace: 'kv', d1: 'd1', service: 'service' };

/** The plain bindings as the JSON of `env`; the others are made by the runtime (madeBindings). */
export function envJson(bindings: Binding[]): string {
  // fromEntries defines the keys: a binding named __proto__ is a key like the others.
  return JSON.stringify(Object.fromEntries(bindings.filter((b) => !MADE_BINDINGS[b.type]).map((b) => [b.name, b.type === 'json' ? b.json : b.text])));
}

/** The bindings the runtime makes, as `kind:name` joined by ',' (names are identifiers). */
function madeBindings(bindings: Binding[]): string {
  return bindings.flatMap((binding) => (MADE_BINDINGS[binding.type] ? [`${MADE_BINDINGS[binding.type]}:${binding.name}`] : [])).join(',');
}

export class TenantIsolate {
  readonly version: Version;
  readonly syntax: 'module' | 'service-worker';
  /** Isolate creation plus code load, in milliseconds. */
  readonly initMs: number;
  /** How many of its modules were compiled from the thread's code cache (module-graph.ts). */
  readonly modulesFromCache: number;
  /** How many were compiled from source here: their cache holds little more than top-level code. */
  readonly modulesFromSource: number;
  /** Invocations that have started and not ended. */
  inflight = 0;
  /** True until the first invocation has been counted as a cold start. */
  cold = true;
  /** Evicted or unloaded while busy: dispose when the last invocation ends. */
  retiring = false;
  readonly #isolate: ivm.Isolate;
  readonly #dispatch: ivm.Reference<(...args: unknown[]) => unknown>;
  readonly #watchId: number;
  readonly #reduceMemory: ivm.Reference<() => void> | null;
  /**
   * isolated-vm's `isDisposed` is a native call, and the executor asks several times a request. An
   * isolate is disposed by `dispose()`, or by isolated-vm inside a call into it (at its memory limit):
   * the flag is read again after every call that failed, and by the calls that check it anyway.
   */
  #disposed = false;

  private constructor(version: Version, prepared: PreparedIsolate, syntax: 'module' | 'service-worker', initMs: number, compiled: { fromCache: number; fromSource: number }) {
    this.modulesFromCache = compiled.fromCache;
    this.modulesFromSource = compiled.fromSource;
    this.version = version;
    this.#isolate = prepared.isolate;
    this.#dispatch = prepared.dispatch;
    this.#watchId = prepared.watchId;
    this.#reduceMemory = prepared.reduceMemory;
    this.syntax = syntax;
    this.initMs = initMs;
  }

  /**
   * Builds the isolate or throws an IsolaneError with an ISO_ERR_DEPLOY_* code. `spare`, when given, is a
   * prepared isolate with the version's memory limit: only the worker's own code is left to load.
   * `startupCpuMs`: the CPU its top-level code and install may use (details.startupCpuMs when exceeded).
   * `remakeCache`: modules compiled from source get their code cache made again once the top-level code
   * has run, before it is saved, so it holds what that code called too (a deploy build: executor.ts).
   */
  static create(version: Version, runtime: RuntimeBundle, onHostCall: HostCallHandler, spare: PreparedIsolate | null = null, startupCpuMs = STARTUP_CPU_MS, remakeCache = false): TenantIsolate {
    const started = performance.now();
    let prepared: PreparedIsolate;
    try {
      prepared = spare ?? PreparedIsolate.create(runtime, version.limits.memoryMb, exitOnCatastrophicError);
    } catch (err) {
      throw err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_DEPLOY_STARTUP', err instanceof Error ? err.message : String(err));
    }
    prepared.handler = onHostCall;
    const { isolate, context, dispatch, watchId } = prepared;
    try {
      let namespace: ivm.Reference<object> | undefined;
      let compiled = { fromCache: 0, fromSource: 0 };
      if (hasNodeCompat(version)) dispatch.applySync(undefined, ['nodeGlobals', processEnvJson(version)]);
      dispatch.applySync(undefined, ['bindings', envJson(version.bindings), madeBindings(version.bindings), version.syntax !== 'module']);
      if (version.syntax === 'module') {
        const linked = linkModules(isolate, context, version, prepared.primeModule);
        compiled = linked;
        if (linked.nodeBuiltins.length > 0) dispatch.applySync(undefined, ['builtinLinks', JSON.stringify(linked.nodeBuiltins)]);
        startup(isolate, startupCpuMs, () => runWatched(watchId, startupCpuMs, () => linked.main.evaluateSync()));
        namespace = linked.main.namespace;
      } else {
        const { script, fromCache } = compileServiceWorker(isolate, version);
        compiled = fromCache ? { fromCache: 1, fromSource: 0 } : { fromCache: 0, fromSource: 1 };
        startup(isolate, startupCpuMs, () => runWatched(watchId, startupCpuMs, () => script.runSync(context)));
      }
      let syntax: 'module' | 'service-worker';
      try {
        const install = ['install', namespace?.derefInto()];
        syntax = runWatched(watchId, startupCpuMs, () => dispatch.applySync(undefined, install, { arguments: { copy: true } })) as 'module' | 'service-worker';
      } catch (err) {
        if (isolate.isDisposed || err instanceof SliceStopped) throw startupFailure(err, isolate, startupCpuMs);
        throw new IsolaneError('ISO_ERR_DEPLOY_NO_HANDLER', err instanceof Error ? err.message : String(err));
      }
      const initMs = performance.now() - started;
      if (remakeCache && compiled.fromSource > 0) remakeModuleCaches(isolate, version);
      saveModuleCaches(version);
      return new TenantIsolate(version, prepared, syntax, initMs, compiled);
    } catch (err) {
      prepared.dispose();
      throw err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_DEPLOY_STARTUP', err instanceof Error ? err.message : String(err));
    }
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  #checkDisposed(): boolean {
    return (this.#disposed = this.#isolate.isDisposed);
  }

  /**
   * One synchronous entry into the runtime's dispatch, stopped once it has used `cpuBudgetMs` of its
   * thread's CPU (src/limits/watchdog.ts) and measured with the same clock.
   * `copy` false when every argument is a string, number or null: they cross as primitives, no copy pass.
   * `before`: a `tenantCpuUs()` reading just taken, when the caller needs the same starting point.
   */
  enter(args: unknown[], cpuBudgetMs: number, copy = true, before = tenantCpuUs()): SliceResult {
    let failure: SliceFailure | null = null;
    let error: string | undefined;
    try {
      runWatched(
        this.#watchId,
        cpuBudgetMs,
        () => {
          if (copy) this.#dispatch.applySync(undefined, args, { arguments: { copy: true } });
          else this.#dispatch.applySync(undefined, args as (string | number | null)[]);
        },
        before,
      );
    } catch (err) {
      failure = sliceFailure(err, this.#isolate);
      this.#checkDisposed();
      if (failure === 'uncaught') error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    }
    return { cpuUs: tenantCpuUs() - before, failure, error };
  }

  /** The version's code cache made again, now that requests have compiled its functions (module-graph.ts). */
  recacheCode(): void {
    if (!this.#checkDisposed()) remakeModuleCaches(this.#isolate, this.version);
    this.#checkDisposed();
  }

  /**
   * The version's code cache made with every function, apart from this isolate and after this call
   * (module-graph.ts, saveEagerCodeCaches), for an isolate of a version that has not served.
   */
  cacheEveryFunction(): void {
    saveEagerCodeCaches(this.version);
  }

  /** Heap plus external (ArrayBuffer) bytes: what counts against the memory limit. */
  memoryBytes(): number {
    if (this.#checkDisposed()) return 0;
    const stats = this.#isolate.getHeapStatisticsSync();
    return stats.used_heap_size + stats.externally_allocated_size;
  }

  /** A full collection that gives memory back (see memory-reducer.ts); returns its thread CPU in µs. */
  reduceMemory(): number {
    if (!this.#reduceMemory || this.#checkDisposed()) return 0;
    const before = threadCpuUs();
    try {
      this.#reduceMemory.applySync();
    } finally {
      this.#checkDisposed();
    }
    return threadCpuUs() - before;
  }

  dispose(): void {
    forgetIsolate(this.#watchId);
    this.#disposed = true;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }
}

function remakeModuleCaches(isolate: ivm.Isolate, version: Version): void {
  try {
    recacheModules(isolate, version);
  } catch {
    // The cache made at compile time stays: it is only slower.
  }
}

function startup(isolate: ivm.Isolate, startupCpuMs: number, run: () => unknown): void {
  try {
    run();
  } catch (err) {
    throw startupFailure(err, isolate, startupCpuMs);
  }
}

function startupFailure(err: unknown, isolate: ivm.Isolate, startupCpuMs: number): IsolaneError {
  const outcome = sliceFailure(err, isolate);
  if (outcome === 'exceededCpu') {
    return new IsolaneError('ISO_ERR_DEPLOY_STARTUP', `top-level code ran longer than the startup limit of ${startupCpuMs} ms`, { details: { startupCpuMs } });
  }
  if (outcome === 'exceededMemory') return new IsolaneError('ISO_ERR_DEPLOY_STARTUP', 'top-level code exceeded the memory limit');
  if (outcome === 'internalError') return new IsolaneError('ISO_ERR_DEPLOY_STARTUP', 'the isolate failed while the worker started');
  const message = err instanceof Error ? err.message : String(err);
  return new IsolaneError('ISO_ERR_DEPLOY_STARTUP', `top-level code threw: ${message}`);
}

/** An error a bridge call throws on purpose, for tenant code to see (e.g. fetch() in the global scope). */
export class BridgeError extends Error {}

/**
 * What tenant code gets of an exception in a host call: its kind and message, never the host's stack,
 * which names files and private methods. isolated-vm copies an error's stack into the isolate as it is.
 */
function withoutHostFrames(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const copy = error instanceof TypeError ? new TypeError(message) : error instanceof RangeError ? new RangeError(message) : new Error(message);
  copy.stack = `${copy.name}: ${message}`;
  return copy;
}

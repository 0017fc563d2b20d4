/**
 * `node:async_hooks`' AsyncLocalStorage and AsyncResource, for workers with nodejs_compat, as on Workers.
 * Built as the `node-async-hooks` chunk; the runtime hands it V8's continuation-preserved embedder data
 * (runtime/async-context.ts), which V8 carries from where a promise reaction (`then`, `await`) or a
 * microtask is made to where it runs, as Node's own AsyncLocalStorage uses it. The data is a frame: an
 * immutable map from each storage to its store, replaced (never changed) by `run`.
 */

export interface AsyncContextPlatform {
  get(): unknown;
  set(frame: unknown): void;
}

type Frame = ReadonlyMap<object, unknown>;

export function makeAsyncHooks(platform: AsyncContextPlatform): Record<string, unknown> {
  const frames = new WeakSet<Frame>();
  const current = (): Frame | undefined => {
    const frame = platform.get();
    return frames.has(frame as Frame) ? (frame as Frame) : undefined;
  };
  const withStore = (frame: Frame | undefined, storage: object, store: unknown, keep: boolean): Frame => {
    const next = new Map(frame);
    if (keep) next.set(storage, store);
    else next.delete(storage);
    frames.add(next);
    return next;
  };
  /** Runs `fn` with `frame` as the current frame, and puts the one before back after. */
  const runIn = <R>(frame: Frame | undefined, fn: (...args: any[]) => R, thisArg: unknown, args: unknown[]): R => {
    const before = platform.get();
    platform.set(frame);
    try {
      return Reflect.apply(fn, thisArg, args);
    } finally {
      platform.set(before);
    }
  };

  class AsyncLocalStorage<T> {
    static bind<F extends (...args: any[]) => any>(fn: F): F {
      return AsyncResource.bind(fn);
    }

    static snapshot(): <R>(fn: (...args: any[]) => R, ...args: unknown[]) => R {
      const frame = current();
      return (fn, ...args) => runIn(frame, fn, undefined, args);
    }

    getStore(): T | undefined {
      return current()?.get(this) as T | undefined;
    }

    run<R>(store: T, fn: (...args: any[]) => R, ...args: unknown[]): R {
      return runIn(withStore(current(), this, store, true), fn, undefined, args);
    }

    exit<R>(fn: (...args: any[]) => R, ...args: unknown[]): R {
      return runIn(withStore(current(), this, undefined, false), fn, undefined, args);
    }

    /** Until the current invocation's synchronous part and what it schedules end. */
    enterWith(store: T): void {
      platform.set(withStore(current(), this, store, true));
    }

    disable(): void {
      if (current()?.has(this)) platform.set(withStore(current(), this, undefined, false));
    }
  }

  class AsyncResource {
    readonly #frame = current();
    readonly type: string;

    constructor(type: string) {
      this.type = String(type);
    }

    static bind<F extends (...args: any[]) => any>(fn: F, type?: string, thisArg?: unknown): F {
      return new AsyncResource(type ?? 'bound-anonymous-fn').bind(fn, thisArg);
    }

    bind<F extends (...args: any[]) => any>(fn: F, thisArg?: unknown): F {
      if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function');
      const frame = this.#frame;
      return function (this: unknown, ...args: unknown[]) {
        return runIn(frame, fn, thisArg === undefined ? this : thisArg, args);
      } as F;
    }

    runInAsyncScope<R>(fn: (...args: any[]) => R, thisArg?: unknown, ...args: unknown[]): R {
      return runIn(this.#frame, fn, thisArg, args);
    }

    emitDestroy(): this {
      return this;
    }

    asyncId(): number {
      return 0;
    }

    triggerAsyncId(): number {
      return 0;
    }
  }

  const exports: Record<string, unknown> = { AsyncLocalStorage, AsyncResource };
  exports.default = exports;
  return exports;
}

/**
 * `node:timers` and `node:timers/promises` for workers with the nodejs_compat flag, as Workers have
 * them: Node's shapes over the runtime's own timers (runtime/global/timers.ts, the host's clock).
 *
 * - setTimeout / setInterval give a `Timeout` (ref, unref, hasRef, refresh, close, and its id as its
 *   primitive value, so `clearTimeout(+timeout)` works as in Node); setImmediate gives an `Immediate`,
 *   run as a 0 ms timer. ref and unref are kept but change nothing: an invocation's timers run while it
 *   lives, whatever keeps a Node process alive.
 * - timers/promises: setTimeout and setImmediate resolve with the value given, setInterval is an async
 *   iterator, scheduler.wait and scheduler.yield; an AbortSignal rejects them with Node's AbortError
 *   (code ABORT_ERR, the signal's reason as its cause).
 *
 * Built as the `node-timers` chunk (src/isolates/runtime-bundle.ts); it runs with the worker's own
 * globals, like an npm library, except the timer functions, which the runtime hands in.
 */

import { checkFunction, nodeError } from './node-error.ts';

export interface TimersPlatform {
  setTimeout(callback: (...args: unknown[]) => void, delay: number, ...args: unknown[]): number;
  setInterval(callback: (...args: unknown[]) => void, delay: number, ...args: unknown[]): number;
  clearTimeout(id: number): void;
}

interface Signal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Node's largest delay; a longer (or not a positive number) one is 1 ms, as in Node. */
const TIMEOUT_MAX = 2 ** 31 - 1;

function delayOf(delay: unknown): number {
  const ms = Number(delay);
  return ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1;
}

/** Node's AbortError (not the DOMException fetch uses). */
class AbortError extends Error {
  code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

export function makeTimers(platform: TimersPlatform): { timers: Record<string, unknown>; promises: Record<string, unknown> } {
  /** What clear* accept: a Timeout or Immediate, or a timer's id. */
  const idOf = (timer: unknown): number | null => {
    if (timer instanceof Timeout || timer instanceof Immediate) return timer.id;
    if (typeof timer === 'number' || typeof timer === 'string') return Number(timer);
    return null;
  };

  /** ref and unref, kept for code that calls them; an invocation's timers run while it lives either way. */
  class Referenced {
    #referenced = true;
    ref(): this {
      this.#referenced = true;
      return this;
    }
    unref(): this {
      this.#referenced = false;
      return this;
    }
    hasRef(): boolean {
      return this.#referenced;
    }
  }

  class Timeout extends Referenced {
    id: number;
    readonly #start: () => number;
    constructor(start: () => number) {
      super();
      this.#start = start;
      this.id = start();
    }
    /** Starts the timer again from now, with the same delay and callback. */
    refresh(): this {
      platform.clearTimeout(this.id);
      this.id = this.#start();
      return this;
    }
    close(): this {
      platform.clearTimeout(this.id);
      return this;
    }
    [Symbol.toPrimitive](): number {
      return this.id;
    }
  }

  class Immediate extends Referenced {
    readonly id: number;
    constructor(id: number) {
      super();
      this.id = id;
    }
  }

  function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
    checkFunction(callback, 'callback');
    const ms = delayOf(delay);
    return new Timeout(() => platform.setTimeout(callback, ms, ...args));
  }
  function setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
    checkFunction(callback, 'callback');
    const ms = delayOf(delay);
    return new Timeout(() => platform.setInterval(callback, ms, ...args));
  }
  function setImmediate(callback: unknown, ...args: unknown[]): Immediate {
    checkFunction(callback, 'callback');
    return new Immediate(platform.setTimeout(callback, 0, ...args));
  }
  function clear(timer: unknown): void {
    const id = idOf(timer);
    if (id !== null) platform.clearTimeout(id);
  }

  // timers/promises

  function checkOptions(options: unknown): { signal?: Signal } {
    if (options === undefined) return {};
    if (options === null || typeof options !== 'object') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object.');
    const { signal, ref } = options as { signal?: unknown; ref?: unknown };
    if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.signal" property must be an instance of AbortSignal.');
    }
    if (ref !== undefined && typeof ref !== 'boolean') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.ref" property must be of type boolean.');
    return { signal: signal as Signal | undefined };
  }

  /** A promise settled by a timer `arm` starts, or by `signal` aborting first. */
  function timerPromise<T>(options: unknown, arm: (done: () => void) => number, value: T): Promise<T> {
    let signal: Signal | undefined;
    try {
      ({ signal } = checkOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        platform.clearTimeout(id);
        reject(new AbortError(undefined, { cause: signal!.reason }));
      };
      const id = arm(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  const promises = {
    setTimeout<T>(delay?: unknown, value?: T, options?: unknown): Promise<T | undefined> {
      return timerPromise(options, (done) => platform.setTimeout(done, delayOf(delay)), value);
    },
    setImmediate<T>(value?: T, options?: unknown): Promise<T | undefined> {
      return timerPromise(options, (done) => platform.setTimeout(done, 0), value);
    },
    /** Yields `value` every `delay` ms; ticks that come while the consumer is busy are queued, as in Node. */
    setInterval<T>(delay?: unknown, value?: T, options?: unknown): AsyncGenerator<T | undefined> {
      const { signal } = checkOptions(options);
      return (async function* () {
        if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
        let ticks = 0;
        let wake: (() => void) | null = null;
        let aborted = false;
        const onAbort = () => {
          aborted = true;
          wake?.();
        };
        const id = platform.setInterval(() => {
          ticks++;
          wake?.();
        }, delayOf(delay));
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          for (;;) {
            if (ticks === 0 && !aborted) await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
            if (aborted) throw new AbortError(undefined, { cause: signal!.reason });
            ticks--;
            yield value;
          }
        } finally {
          platform.clearTimeout(id);
          signal?.removeEventListener('abort', onAbort);
        }
      })();
    },
    scheduler: {
      wait(delay?: unknown, options?: unknown): Promise<void> {
        return timerPromise(options, (done) => platform.setTimeout(done, delayOf(delay)), undefined);
      },
      yield(): Promise<void> {
        return timerPromise(undefined, (done) => platform.setTimeout(done, 0), undefined);
      },
    },
  };

  const timers = { setTimeout, clearTimeout: clear, setInterval, clearInterval: clear, setImmediate, clearImmediate: clear, promises };
  return { timers, promises };
}

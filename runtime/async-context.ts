/**
 * V8's continuation-preserved embedder data, from the watchdog addon's natives (handed to boot): what
 * AsyncLocalStorage keeps its frame in (runtime/node/async-hooks.ts). V8 itself carries it across
 * promise reactions and microtasks; the runtime carries it where the host calls back into the isolate
 * for something a worker scheduled (timers), and clears it at every entry from the host (entry.ts), so
 * that no frame (an `enterWith`) passes from one invocation to another's code. All of that only once a worker has imported
 * node:async_hooks: until then this costs a boolean test.
 */
import { ReflectApply } from './primordials.ts';

let getData: (() => unknown) | null = null;
let setData: ((frame: unknown) => void) | null = null;
let used = false;

export function useContinuationData(get: unknown, set: unknown): void {
  if (typeof get === 'function' && typeof set === 'function') {
    getData = get as () => unknown;
    setData = set as (frame: unknown) => void;
  }
}

/** The natives for node:async_hooks, or null when the addon was built without them. */
export function asyncContextNatives(): { get(): unknown; set(frame: unknown): void } | null {
  if (getData === null || setData === null) return null;
  used = true;
  return { get: getData, set: setData };
}

/** At the start of each invocation. */
export function clearAsyncContext(): void {
  if (used) setData!(undefined);
}

/** At the start of each entry from the host: no frame; returns the one there was, for leaveAsyncContext. */
export function enterFreshAsyncContext(): unknown {
  if (!used) return undefined;
  const before = getData!();
  setData!(undefined);
  return before;
}

/** At the end of an entry: the frame enterFreshAsyncContext found. */
export function leaveAsyncContext(frame: unknown): void {
  if (used) setData!(frame);
}

/** The frame now, for a callback the host will trigger later (undefined while unused). */
export function captureAsyncContext(): unknown {
  return used ? getData!() : undefined;
}

/** Calls `fn` with the frame `captureAsyncContext()` gave when it was scheduled. */
export function applyInAsyncContext(frame: unknown, fn: Function, thisArg: unknown, args: unknown[]): unknown {
  if (!used) return ReflectApply(fn, thisArg, args);
  const before = getData!();
  setData!(frame);
  try {
    return ReflectApply(fn, thisArg, args);
  } finally {
    setData!(before);
  }
}


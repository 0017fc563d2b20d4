/**
 * queueMicrotask (https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html#microtask-queuing)
 * and reportError (https://html.spec.whatwg.org/multipage/webappapis.html#dom-reporterror).
 * A bare V8 context has neither; a job on an already-resolved intrinsic promise is a microtask.
 */
import { ErrorIsError, PromisePrototypeThen, PromiseResolved } from '../primordials.ts';
import { dispatchEvent } from '../events/listeners.ts';
import { loadEvents } from '../events/event.ts';
import { logUncaught } from './console.ts';

const resolved = PromiseResolved(undefined);

export function queueMicrotask(callback: unknown): void {
  if (typeof callback !== 'function') {
    throw new TypeError("Failed to execute 'queueMicrotask': The callback provided as parameter 1 is not a function.");
  }
  PromisePrototypeThen(resolved, () => {
    try {
      callback();
    } catch (error) {
      // "report the exception": an error in one microtask does not reject anything.
      logUncaught(error);
    }
  });
}

// https://html.spec.whatwg.org/multipage/webappapis.html#report-an-exception: an ErrorEvent "error" at
// the global; unless a listener cancels it, the error is logged as uncaught (console.error).
export function reportError(error: unknown): void {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
  }
  let message = '';
  try {
    message = ErrorIsError(error) ? `Uncaught ${(error as Error).name}: ${(error as Error).message}` : `Uncaught ${error as string}`;
  } catch {}
  const event = new (loadEvents().ErrorEvent)('error', { __proto__: null, cancelable: true, message, error } as object);
  if (dispatchEvent(event)) logUncaught(error);
}

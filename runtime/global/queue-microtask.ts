/**
 * queueMicrotask (https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html#microtask-queuing)
 * and reportError (https://html.spec.whatwg.org/multipage/webappapis.html#dom-reporterror).
 * A bare V8 context has neither; a job on an already-resolved intrinsic promise is a microtask.
 */
import { defineValue, ENUMERABLE, ErrorIsError, PromisePrototypeThen, PromiseResolved } from '../primordials.ts';
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

// https://html.spec.whatwg.org/multipage/webappapis.html#report-an-exception: an "error" event at
// the global (an Event carrying ErrorEvent's fields: there is no ErrorEvent interface here); unless a
// listener cancels it, the error is logged as uncaught (console.error).
export function reportError(error: unknown): void {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
  }
  const event = new (loadEvents().Event)('error', { cancelable: true });
  let message = '';
  try {
    message = ErrorIsError(error) ? `Uncaught ${(error as Error).name}: ${(error as Error).message}` : `Uncaught ${error as string}`;
  } catch {}
  const fields: Record<string, unknown> = { __proto__: null, message, filename: '', lineno: 0, colno: 0, error };
  for (const key in fields) defineValue(event, key, fields[key], ENUMERABLE);
  if (dispatchEvent(event)) logUncaught(error);
}

/**
 * The global addEventListener/removeEventListener of service-worker syntax
 * (https://developers.cloudflare.com/workers/reference/migrate-to-module-workers/): a worker script
 * registers `fetch` listeners while it runs; dispatch calls them for each request. A full
 * EventTarget is a later milestone; this keeps just the listener lists, in registration order.
 */
import { ObjectCreate, ReflectApply, ArrayPrototypeSplice } from '../primordials.ts';

type Listener = Function | { handleEvent: Function };

const lists: Record<string, Listener[]> = ObjectCreate(null);

function isListener(value: unknown): value is Listener {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

// https://dom.spec.whatwg.org/#dom-eventtarget-addeventlistener (capture, once and signal not modelled)
export function addEventListener(type: unknown, listener: unknown): void {
  if (!isListener(listener)) return; // null listeners are ignored, as in the DOM
  const name = `${type as string}`;
  const list = (lists[name] ??= []);
  for (let i = 0; i < list.length; i++) if (list[i] === listener) return;
  list[list.length] = listener;
}

export function removeEventListener(type: unknown, listener: unknown): void {
  const list = lists[`${type as string}`];
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === listener) {
      ArrayPrototypeSplice(list, i, 1);
      return;
    }
  }
}

/** A snapshot of the listeners of `type`: listeners added while dispatching do not run this time. */
export function listenersOf(type: string): Listener[] {
  const list = lists[type];
  const copy: Listener[] = [];
  if (list !== undefined) for (let i = 0; i < list.length; i++) copy[i] = list[i]!;
  return copy;
}

/** Call one listener as the DOM does: a function with `this` = the global, or an object's handleEvent. */
export function callListener(listener: Listener, event: object, thisArg: unknown): void {
  if (typeof listener === 'function') {
    ReflectApply(listener, thisArg, [event]);
    return;
  }
  const handleEvent = listener.handleEvent;
  if (typeof handleEvent !== 'function') throw new TypeError("The listener's handleEvent is not a function.");
  ReflectApply(handleEvent, listener, [event]);
}

/**
 * The global addEventListener/removeEventListener/dispatchEvent of service-worker syntax
 * (https://developers.cloudflare.com/workers/reference/migrate-to-module-workers/): the global object
 * is the event target, with the same listener lists and options (`once`, `capture`, `signal`,
 * handleEvent objects) as any EventTarget (event.ts). A worker script
 * registers `fetch` listeners while it runs; entry.ts calls them for each request.
 */
import { globalThisRef } from '../primordials.ts';
import {
  type ListenerEntry,
  type ListenerMap,
  addListener,
  createListenerMap,
  dispatchTo,
  invokeListener,
  removeListener,
  snapshotListeners,
} from './event.ts';

/** Null until the first addEventListener: module workers never make it. */
let globalListeners: ListenerMap | null = null;

function listeners(): ListenerMap {
  return (globalListeners ??= createListenerMap());
}

export function addEventListener(type: unknown, listener: unknown, options: unknown = undefined): void {
  addListener(listeners(), type, listener, options);
}

export function removeEventListener(type: unknown, listener: unknown, options: unknown = undefined): void {
  removeListener(listeners(), type, listener, options);
}

export function dispatchEvent(event: unknown): boolean {
  return dispatchTo(listeners(), globalThisRef, event);
}

/** A snapshot of the listeners of `type`: listeners added while dispatching do not run this time. */
export function listenersOf(type: string): ListenerEntry[] {
  return globalListeners === null ? [] : snapshotListeners(globalListeners, type);
}

/** Call one global listener of `type` as the DOM does (skipped if removed meanwhile; `once` honoured). */
export function callListener(type: string, listener: ListenerEntry, event: object): void {
  invokeListener(listeners(), type, listener, event, globalThisRef);
}

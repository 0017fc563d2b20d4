/**
 * FetchEvent of service-worker syntax (https://w3c.github.io/ServiceWorker/#fetchevent-interface),
 * as Workers have it: respondWith(), waitUntil(), passThroughOnException() and the request.
 * Constructed by the runtime only. It is an Event (instanceof holds, the Event members work); the
 * state entry.ts reads (stopped, responded, canceled) is kept here. Event is defined on first use
 * (global/lazy-globals.ts), so FetchEvent is too: on the first request of a service-worker script.
 */
import { DOMException } from '../global/dom-exception.ts';
import { nameClass } from '../global/define.ts';
import type { Request } from '../http/request.ts';
import { type Invocation, waitUntil } from '../invocation.ts';
import { ObjectFreeze } from '../primordials.ts';
import { loadEvents } from './event.ts';

const INTERNAL = ObjectFreeze({});

let beginDispatch: (event: FetchEvent) => void;
let endDispatch: (event: FetchEvent) => { responded: boolean; response: unknown };
let isStopped: (event: FetchEvent) => boolean;
let hasResponded: (event: FetchEvent) => boolean;

export type FetchEvent = InstanceType<ReturnType<typeof defineFetchEvent>>;

function defineFetchEvent() {
  const { Event } = loadEvents();
  class FetchEvent extends Event {
    #request: Request;
    #invocation: Invocation;
    #dispatching = false;
    #responded = false;
    #response: unknown = undefined;
    #stopped = false;
    #defaultPrevented = false;

    constructor(token: unknown, request: Request, invocation: Invocation) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      super('fetch', { cancelable: true });
      this.#request = request;
      this.#invocation = invocation;
    }

    override get type(): 'fetch' {
      return 'fetch';
    }

    get request(): Request {
      return this.#request;
    }

    override get defaultPrevented(): boolean {
      return this.#defaultPrevented;
    }

    // https://w3c.github.io/ServiceWorker/#fetch-event-respondwith
    respondWith(response: unknown): void {
      // 1. If the dispatch flag is unset, throw an "InvalidStateError".
      if (!this.#dispatching) {
        throw new DOMException('respondWith() must be called synchronously from within a fetch event listener.', 'InvalidStateError');
      }
      // 2. If the respond-with entered flag is set, throw an "InvalidStateError".
      if (this.#responded) throw new DOMException('respondWith() was already called for this event.', 'InvalidStateError');
      // 3-7. The response (or a promise of one) is followed once every listener has run.
      this.#responded = true;
      this.#response = response;
      this.#stopped = true; // "stop propagation" and "stop immediate propagation"
      this.#defaultPrevented = true;
    }

    // https://w3c.github.io/ServiceWorker/#dom-extendableevent-waituntil
    waitUntil(promise: unknown): void {
      waitUntil(this.#invocation, promise);
    }

    /** There is no origin behind a worker here to fall through to: accepted and ignored. */
    passThroughOnException(): void {
      this.#invocation; // brand check: TypeError on a foreign receiver
    }

    override preventDefault(): void {
      this.#defaultPrevented = true;
      super.preventDefault();
    }

    override stopPropagation(): void {
      this.#invocation; // brand check: TypeError on a foreign receiver
      super.stopPropagation();
    }

    override stopImmediatePropagation(): void {
      this.#stopped = true;
      super.stopImmediatePropagation();
    }

    static {
      beginDispatch = (event) => {
        event.#dispatching = true;
      };
      endDispatch = (event) => {
        event.#dispatching = false;
        return { responded: event.#responded, response: event.#response };
      };
      isStopped = (event) => event.#stopped;
      hasResponded = (event) => event.#responded;
    }
  }
  nameClass(FetchEvent, 'FetchEvent');
  return FetchEvent;
}

let FetchEventClass: ReturnType<typeof defineFetchEvent> | null = null;

export function createFetchEvent(request: Request, invocation: Invocation): FetchEvent {
  return new (FetchEventClass ??= defineFetchEvent())(INTERNAL, request, invocation);
}

export { beginDispatch, endDispatch, hasResponded, isStopped };

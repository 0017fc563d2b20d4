/**
 * Event, CustomEvent and EventTarget (https://dom.spec.whatwg.org/#events). A worker has no node
 * tree, so an event only ever reaches its target: dispatch runs the capturing listeners, then the
 * others, all in the "at target" phase. The listener lists and dispatch are shared with the global
 * addEventListener of service-worker syntax (listeners.ts), whose target is the global object.
 */
import { DOMException } from '../global/dom-exception.ts';
import { logUncaught } from '../global/console.ts';
import { nameClass } from '../global/define.ts';
import { ArrayPrototypeSplice, DateNow, defineValue, ENUMERABLE, ObjectCreate, ObjectFreeze, ReflectApply } from '../primordials.ts';

type Callback = Function | { handleEvent?: unknown };

/** https://dom.spec.whatwg.org/#concept-event-listener */
export interface ListenerEntry {
  callback: Callback;
  capture: boolean;
  once: boolean;
  passive: boolean;
  removed: boolean;
}

/** Per target: event type → listeners in registration order. */
export type ListenerMap = Record<string, ListenerEntry[]>;

/** Set by abort.ts (which depends on this file): AbortSignal's brand check and "add an abort algorithm". */
export const signalHooks: {
  /** null if `value` is not an AbortSignal, else whether it is aborted. */
  aborted: (value: unknown) => boolean | null;
  onAbort: (signal: unknown, algorithm: () => void) => void;
} = { aborted: () => null, onAbort: () => {} };

export function createListenerMap(): ListenerMap {
  return ObjectCreate(null);
}

// https://dom.spec.whatwg.org/#event-flatten-more
function flattenOptions(options: unknown): { capture: boolean; once: boolean; passive: boolean; signal: unknown } {
  if (typeof options !== 'object' || options === null) return { capture: !!options, once: false, passive: false, signal: undefined };
  const o = options as { capture?: unknown; once?: unknown; passive?: unknown; signal?: unknown };
  const signal = o.signal;
  if (signal !== undefined && signalHooks.aborted(signal) === null) {
    throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type AbortSignal.");
  }
  return { capture: !!o.capture, once: !!o.once, passive: !!o.passive, signal };
}

function isCallback(value: unknown): value is Callback {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

// https://dom.spec.whatwg.org/#add-an-event-listener
export function addListener(map: ListenerMap, type: unknown, callback: unknown, options: unknown): void {
  const name = `${type as string}`;
  const flat = flattenOptions(options);
  // 2. If signal is non-null and aborted, then return. 3. If callback is null, then return.
  if (flat.signal !== undefined && signalHooks.aborted(flat.signal)) return;
  if (!isCallback(callback)) return;
  const list = (map[name] ??= []);
  // 4. Not added again when type, callback and capture match an entry.
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (e.callback === callback && e.capture === flat.capture) return;
  }
  const entry: ListenerEntry = { callback, capture: flat.capture, once: flat.once, passive: flat.passive, removed: false };
  list[list.length] = entry;
  // 5. If signal is non-null, add an abort algorithm that removes the listener.
  if (flat.signal !== undefined) signalHooks.onAbort(flat.signal, () => removeEntry(map, name, entry));
}

function removeEntry(map: ListenerMap, type: string, entry: ListenerEntry): void {
  entry.removed = true;
  const list = map[type];
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === entry) {
      ArrayPrototypeSplice(list, i, 1);
      return;
    }
  }
}

// https://dom.spec.whatwg.org/#dom-eventtarget-removeeventlistener
export function removeListener(map: ListenerMap, type: unknown, callback: unknown, options: unknown): void {
  const name = `${type as string}`;
  const capture = typeof options === 'object' && options !== null ? !!(options as { capture?: unknown }).capture : !!options;
  const list = map[name];
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (e.callback === callback && e.capture === capture) {
      removeEntry(map, name, e);
      return;
    }
  }
}

/** The listeners of `type`, capturing ones first (the order at the target), as a snapshot. */
export function snapshotListeners(map: ListenerMap, type: string): ListenerEntry[] {
  const list = map[type];
  const copy: ListenerEntry[] = [];
  if (list === undefined) return copy;
  for (let i = 0; i < list.length; i++) if (list[i]!.capture) copy[copy.length] = list[i]!;
  for (let i = 0; i < list.length; i++) if (!list[i]!.capture) copy[copy.length] = list[i]!;
  return copy;
}

/**
 * https://dom.spec.whatwg.org/#concept-event-listener-inner-invoke, for one listener: skipped if
 * removed meanwhile, removed first if `once`, `this` = the current target (or the handleEvent
 * object). Exceptions propagate to the caller.
 */
export function invokeListener(map: ListenerMap, type: string, entry: ListenerEntry, event: object, thisArg: unknown): void {
  if (entry.removed) return;
  if (entry.once) removeEntry(map, type, entry);
  const callback = entry.callback;
  if (typeof callback === 'function') {
    ReflectApply(callback, thisArg, [event]);
    return;
  }
  const handleEvent = callback.handleEvent;
  if (typeof handleEvent !== 'function') throw new TypeError("The listener's handleEvent is not a function.");
  ReflectApply(handleEvent, callback, [event]);
}

interface EventInit {
  bubbles?: unknown;
  cancelable?: unknown;
  composed?: unknown;
}

// Set by the classes' static blocks (defineEvents()); no event or target exists before.
let eventSlots: (event: object) => EventSlots;
let isEvent: (value: unknown) => boolean;
let listenersOfTarget: (target: object) => ListenerMap;

interface EventSlots {
  type: string;
  bubbles: boolean;
  cancelable: boolean;
  composed: boolean;
  canceled: boolean;
  stop: boolean;
  stopImmediate: boolean;
  dispatching: boolean;
  inPassiveListener: boolean;
  target: unknown;
  currentTarget: unknown;
  phase: number;
  timeStamp: number;
}

/**
 * https://dom.spec.whatwg.org/#concept-event-dispatch without a tree: every listener of the target
 * runs "at target". A listener's exception is reported (logged) and does not stop the others.
 * Returns false if the event was canceled.
 */
export function dispatchTo(map: ListenerMap, target: unknown, event: unknown): boolean {
  if (api === null || !isEvent(event)) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
  const s = eventSlots(event as object);
  if (s.dispatching) throw new DOMException("Failed to execute 'dispatchEvent' on 'EventTarget': The event is already being dispatched.", 'InvalidStateError');
  s.dispatching = true;
  s.target = target;
  s.currentTarget = target;
  s.phase = 2; // AT_TARGET
  if (!s.stop) {
    const listeners = snapshotListeners(map, s.type);
    for (let i = 0; i < listeners.length; i++) {
      const entry = listeners[i]!;
      if (entry.passive) s.inPassiveListener = true;
      try {
        invokeListener(map, s.type, entry, event as object, target);
      } catch (error) {
        logUncaught(error);
      }
      s.inPassiveListener = false;
      if (s.stopImmediate) break;
    }
  }
  s.phase = 0;
  s.currentTarget = null;
  s.dispatching = false;
  s.stop = false;
  s.stopImmediate = false;
  return !s.canceled;
}

function defineEvents() {
  class Event {
    #s: EventSlots;

    // https://dom.spec.whatwg.org/#dom-event-event
    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
      const options = (init ?? {}) as EventInit;
      this.#s = {
        type: `${type as string}`,
        bubbles: !!options.bubbles,
        cancelable: !!options.cancelable,
        composed: !!options.composed,
        canceled: false,
        stop: false,
        stopImmediate: false,
        dispatching: false,
        inPassiveListener: false,
        target: null,
        currentTarget: null,
        phase: 0,
        timeStamp: DateNow(),
      };
    }

    get type(): string {
      return this.#s.type;
    }
    get target(): unknown {
      return this.#s.target;
    }
    get srcElement(): unknown {
      return this.#s.target;
    }
    get currentTarget(): unknown {
      return this.#s.currentTarget;
    }
    get eventPhase(): number {
      return this.#s.phase;
    }
    get bubbles(): boolean {
      return this.#s.bubbles;
    }
    get cancelable(): boolean {
      return this.#s.cancelable;
    }
    get composed(): boolean {
      return this.#s.composed;
    }
    get defaultPrevented(): boolean {
      return this.#s.canceled;
    }
    get isTrusted(): boolean {
      this.#s; // brand check
      return false;
    }
    get timeStamp(): number {
      return this.#s.timeStamp;
    }
    get returnValue(): boolean {
      return !this.#s.canceled;
    }
    set returnValue(value: unknown) {
      if (!value) this.preventDefault();
    }
    get cancelBubble(): boolean {
      return this.#s.stop;
    }
    set cancelBubble(value: unknown) {
      if (value) this.#s.stop = true;
    }

    composedPath(): unknown[] {
      const current = this.#s.currentTarget;
      return current === null ? [] : [current];
    }

    stopPropagation(): void {
      this.#s.stop = true;
    }

    stopImmediatePropagation(): void {
      this.#s.stop = true;
      this.#s.stopImmediate = true;
    }

    // https://dom.spec.whatwg.org/#set-the-canceled-flag
    preventDefault(): void {
      const s = this.#s;
      if (s.cancelable && !s.inPassiveListener) s.canceled = true;
    }

    static {
      eventSlots = (event) => (event as Event).#s;
      isEvent = (value): value is Event => typeof value === 'object' && value !== null && #s in value;
    }
  }
  nameClass(Event, 'Event');
  const PHASES = ['NONE', 'CAPTURING_PHASE', 'AT_TARGET', 'BUBBLING_PHASE'];
  for (let i = 0; i < PHASES.length; i++) {
    defineValue(Event, PHASES[i]!, i, ENUMERABLE);
    defineValue(Event.prototype, PHASES[i]!, i, ENUMERABLE);
  }

  class CustomEvent extends Event {
    #detail: unknown;

    // https://dom.spec.whatwg.org/#interface-customevent
    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
      super(type, init);
      this.#detail = init === undefined || init === null ? null : ((init as { detail?: unknown }).detail ?? null);
    }

    get detail(): unknown {
      return this.#detail;
    }
  }
  nameClass(CustomEvent, 'CustomEvent');

  /** The init dictionary's members, read once each in Web IDL's (alphabetical) order. */
  const member = (init: unknown, name: string): unknown => (init === undefined || init === null ? undefined : (init as Record<string, unknown>)[name]);
  const text = (value: unknown, fallback: string): string => (value === undefined ? fallback : `${value as string}`);
  const unsigned = (value: unknown, bits: 16 | 32): number => (value === undefined ? 0 : (bits === 16 ? +(value as number) & 0xffff : +(value as number) >>> 0) || 0);

  // https://html.spec.whatwg.org/multipage/webappapis.html#errorevent
  class ErrorEvent extends Event {
    #fields: { colno: number; error: unknown; filename: string; lineno: number; message: string };

    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'ErrorEvent': 1 argument required, but only 0 present.");
      super(type, init);
      const colno = unsigned(member(init, 'colno'), 32);
      const error = member(init, 'error');
      const filename = text(member(init, 'filename'), '');
      const lineno = unsigned(member(init, 'lineno'), 32);
      const message = text(member(init, 'message'), '');
      this.#fields = { colno, error: error === undefined ? null : error, filename, lineno, message };
    }

    get message(): string { return this.#fields.message; }
    get filename(): string { return this.#fields.filename; }
    get lineno(): number { return this.#fields.lineno; }
    get colno(): number { return this.#fields.colno; }
    get error(): unknown { return this.#fields.error; }
  }
  nameClass(ErrorEvent, 'ErrorEvent');

  // https://html.spec.whatwg.org/multipage/comms.html#messageevent
  class MessageEvent extends Event {
    #fields: { data: unknown; lastEventId: string; origin: string; ports: readonly unknown[]; source: unknown };

    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
      super(type, init);
      const data = member(init, 'data');
      const lastEventId = text(member(init, 'lastEventId'), '');
      const origin = text(member(init, 'origin'), '');
      const ports = member(init, 'ports');
      const source = member(init, 'source');
      if (ports !== undefined && (typeof ports !== 'object' || ports === null)) throw new TypeError("Failed to construct 'MessageEvent': The provided value cannot be converted to a sequence.");
      const list: unknown[] = [];
      if (ports !== undefined) for (const port of ports as Iterable<unknown>) list[list.length] = port;
      this.#fields = { data: data === undefined ? null : data, lastEventId, origin, ports: ObjectFreeze(list), source: source === undefined ? null : source };
    }

    get data(): unknown { return this.#fields.data; }
    get origin(): string { return this.#fields.origin; }
    get lastEventId(): string { return this.#fields.lastEventId; }
    get source(): unknown { return this.#fields.source; }
    get ports(): readonly unknown[] { return this.#fields.ports; }
  }
  nameClass(MessageEvent, 'MessageEvent');

  // https://websockets.spec.whatwg.org/#the-closeevent-interface
  class CloseEvent extends Event {
    #fields: { code: number; reason: string; wasClean: boolean };

    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'CloseEvent': 1 argument required, but only 0 present.");
      super(type, init);
      const code = unsigned(member(init, 'code'), 16);
      const reason = text(member(init, 'reason'), '');
      const wasClean = !!member(init, 'wasClean');
      this.#fields = { code, reason, wasClean };
    }

    get wasClean(): boolean { return this.#fields.wasClean; }
    get code(): number { return this.#fields.code; }
    get reason(): string { return this.#fields.reason; }
  }
  nameClass(CloseEvent, 'CloseEvent');

  // https://html.spec.whatwg.org/multipage/webappapis.html#promiserejectionevent
  class PromiseRejectionEvent extends Event {
    #promise: object;
    #reason: unknown;

    constructor(type: unknown, init: unknown = undefined) {
      if (arguments.length < 2) throw new TypeError(`Failed to construct 'PromiseRejectionEvent': 2 arguments required, but only ${arguments.length} present.`);
      super(type, init);
      const promise = member(init, 'promise');
      const reason = member(init, 'reason');
      if (promise === undefined) throw new TypeError("Failed to construct 'PromiseRejectionEvent': required member promise is undefined.");
      if ((typeof promise !== 'object' && typeof promise !== 'function') || promise === null) throw new TypeError("Failed to construct 'PromiseRejectionEvent': The provided value is not an object.");
      this.#promise = promise;
      this.#reason = reason;
    }

    get promise(): object { return this.#promise; }
    get reason(): unknown { return this.#reason; }
  }
  nameClass(PromiseRejectionEvent, 'PromiseRejectionEvent');



  class EventTarget {
    #listeners: ListenerMap = createListenerMap();

    // https://dom.spec.whatwg.org/#dom-eventtarget-addeventlistener
    addEventListener(type: unknown, callback: unknown, options: unknown = undefined): void {
      addListener(this.#listeners, type, callback, options);
    }

    removeEventListener(type: unknown, callback: unknown, options: unknown = undefined): void {
      removeListener(this.#listeners, type, callback, options);
    }

    // https://dom.spec.whatwg.org/#dom-eventtarget-dispatchevent
    dispatchEvent(event: unknown): boolean {
      return dispatchTo(this.#listeners, this, event);
    }

    static {
      listenersOfTarget = (target) => (target as EventTarget).#listeners;
    }
  }
  nameClass(EventTarget, 'EventTarget');
  return { Event, CustomEvent, EventTarget, ErrorEvent, MessageEvent, CloseEvent, PromiseRejectionEvent };
}

type EventApi = ReturnType<typeof defineEvents>;
export type Event = InstanceType<EventApi['Event']>;
export type CustomEvent = InstanceType<EventApi['CustomEvent']>;
export type EventTarget = InstanceType<EventApi['EventTarget']>;

let api: EventApi | null = null;

/**
 * The classes are defined on first use (global/lazy-globals.ts): an isolate that never touches an
 * event pays neither for defining them nor for their code in its code cache.
 */
export function loadEvents(): EventApi {
  return (api ??= defineEvents());
}

/** Dispatch on an EventTarget through the runtime's own path (tenant code may replace dispatchEvent). */
export function fireEvent(target: object, event: object): boolean {
  return dispatchTo(listenersOfTarget(target), target, event);
}

/**
 * AbortController and AbortSignal (https://dom.spec.whatwg.org/#aborting-ongoing-activities).
 * A signal keeps its "abort algorithms" (run before the abort event) in a private list, so the
 * runtime's own followers (Request signals, AbortSignal.any, listener removal) do not depend on
 * anything tenant code can replace.
 */
import { DOMException } from '../global/dom-exception.ts';
import { nameClass } from '../global/define.ts';
import { logUncaught } from '../global/console.ts';
import { setTimeout } from '../global/timers.ts';
import { ObjectFreeze, ReflectApply } from '../primordials.ts';
import { fireEvent, loadEvents, signalHooks } from './event.ts';

const INTERNAL = ObjectFreeze({});

// Set by AbortSignal's static block (defineAbort()); no signal exists before.
let signalSlots: (signal: object) => SignalSlots;
let isSignal: (value: unknown) => value is AbortSignal;

interface SignalSlots {
  aborted: boolean;
  reason: unknown;
  algorithms: (() => void)[];
  onabort: unknown;
}

function defineAbort() {
  const { EventTarget } = loadEvents();
  class AbortSignal extends EventTarget {
    #s: SignalSlots = { aborted: false, reason: undefined, algorithms: [], onabort: null };

    constructor(token: unknown = undefined) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      super();
    }

    // https://dom.spec.whatwg.org/#dom-abortsignal-abort
    static abort(reason: unknown = undefined): AbortSignal {
      const signal = createAbortSignal();
      const s = signalSlots(signal);
      s.aborted = true;
      s.reason = reason !== undefined ? reason : new DOMException('This operation was aborted', 'AbortError');
      return signal;
    }

    // https://dom.spec.whatwg.org/#dom-abortsignal-timeout: the runtime's (host-driven) timer.
    static timeout(milliseconds: unknown): AbortSignal {
      const ms = +(milliseconds as number);
      if (!(ms >= 0 && ms <= 9007199254740991)) {
        throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
      }
      const signal = createAbortSignal();
      // setTimeout takes a `long`: longer delays are clamped rather than wrapped.
      const delayMs = ms > 0x7fffffff ? 0x7fffffff : ms;
      setTimeout(() => {
        signalAbort(signal, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      }, delayMs);
      return signal;
    }

    // https://dom.spec.whatwg.org/#dom-abortsignal-any
    static any(signals: unknown): AbortSignal {
      const list: AbortSignal[] = [];
      for (const value of signals as Iterable<unknown>) {
        if (!isSignal(value)) throw new TypeError("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
        list[list.length] = value;
      }
      return dependentSignal(list);
    }

    get aborted(): boolean {
      return this.#s.aborted;
    }

    get reason(): unknown {
      return this.#s.reason;
    }

    // https://dom.spec.whatwg.org/#dom-abortsignal-throwifaborted
    throwIfAborted(): void {
      const s = this.#s;
      if (s.aborted) throw s.reason;
    }

    get onabort(): unknown {
      return this.#s.onabort;
    }

    set onabort(value: unknown) {
      this.#s.onabort = typeof value === 'function' || (typeof value === 'object' && value !== null) ? value : null;
    }

    static {
      signalSlots = (signal) => (signal as AbortSignal).#s;
      isSignal = (value): value is AbortSignal => typeof value === 'object' && value !== null && #s in value;
    }
  }
  nameClass(AbortSignal, 'AbortSignal');

  class AbortController {
    #signal: AbortSignal = createAbortSignal();

    get signal(): AbortSignal {
      return this.#signal;
    }

    // https://dom.spec.whatwg.org/#dom-abortcontroller-abort
    abort(reason: unknown = undefined): void {
      signalAbort(this.#signal, reason);
    }
  }
  nameClass(AbortController, 'AbortController');

  signalHooks.aborted = (value) => (isSignal(value) ? signalSlots(value).aborted : null);
  signalHooks.onAbort = (signal, algorithm) => followSignal(signal as AbortSignal, algorithm);
  return { AbortSignal, AbortController };
}

type AbortApi = ReturnType<typeof defineAbort>;
export type AbortSignal = InstanceType<AbortApi['AbortSignal']>;
export type AbortController = InstanceType<AbortApi['AbortController']>;

let api: AbortApi | null = null;

/** Defined on first use, like the event classes (event.ts loadEvents). */
export function loadAbort(): AbortApi {
  return (api ??= defineAbort());
}


export function createAbortSignal(): AbortSignal {
  return new (loadAbort().AbortSignal)(INTERNAL);
}

export function isAbortSignal(value: unknown): value is AbortSignal {
  return api !== null && isSignal(value);
}

// https://dom.spec.whatwg.org/#abortsignal-signal-abort
export function signalAbort(signal: AbortSignal, reason: unknown): void {
  const s = signalSlots(signal);
  // 1. If signal is aborted, then return.
  if (s.aborted) return;
  // 2. Set signal's abort reason to reason if it is given; otherwise to a new "AbortError" DOMException.
  s.aborted = true;
  s.reason = reason !== undefined ? reason : new DOMException('This operation was aborted', 'AbortError');
  // 4. Run the abort algorithms. Dependent signals (AbortSignal.any, a Request's) follow through an
  // algorithm here, so their abort events fire before this signal's own (the spec fires it first).
  const algorithms = s.algorithms;
  s.algorithms = [];
  for (let i = 0; i < algorithms.length; i++) {
    try {
      algorithms[i]!();
    } catch (error) {
      logUncaught(error);
    }
  }
  // 5. Fire an event named abort at signal; the onabort handler runs as the event handler does.
  const event = new (loadEvents().Event)('abort');
  // (The onabort handler runs first, not at the place in the listener list where it was set.)
  const handler = s.onabort;
  if (typeof handler === 'function') {
    try {
      ReflectApply(handler, signal, [event]);
    } catch (error) {
      logUncaught(error);
    }
  }
  fireEvent(signal, event);
}

/** https://dom.spec.whatwg.org/#abortsignal-add: no-op once aborted. */
export function followSignal(signal: AbortSignal, algorithm: () => void): void {
  const s = signalSlots(signal);
  if (!s.aborted) s.algorithms[s.algorithms.length] = algorithm;
}

// https://dom.spec.whatwg.org/#create-a-dependent-abort-signal
export function dependentSignal(signals: AbortSignal[]): AbortSignal {
  const result = createAbortSignal();
  // 2. If any signal is aborted, result is aborted with its reason.
  for (let i = 0; i < signals.length; i++) {
    const s = signalSlots(signals[i]!);
    if (s.aborted) {
      const r = signalSlots(result);
      r.aborted = true;
      r.reason = s.reason;
      return result;
    }
  }
  // 3-4. Otherwise it aborts with the first of them that does.
  for (let i = 0; i < signals.length; i++) {
    const source = signals[i]!;
    followSignal(source, () => signalAbort(result, signalSlots(source).reason));
  }
  return result;
}



/**
 * One invocation as the runtime sees it: answered at most once (host 'respond' or 'error'), then
 * 'done' once the answer is out and every waitUntil() promise has settled. A cancelled invocation
 * is forgotten: nothing is sent for it afterwards, whatever its promises do. The host, not the
 * runtime, knows which invocation is current (for timers and CPU accounting).
 */
import type { BridgeBody, HeaderList } from './host.d.ts';
import { hostDone, hostError, hostRespond } from './bridge.ts';
import { logUncaught } from './global/console.ts';
import { errorMessage, errorStack, inspect, isError } from './global/inspect.ts';
import { responseForHost } from './http/response.ts';
import { ObjectCreate, ObjectGetPrototypeOf, PromisePrototype, PromisePrototypeThen, PromiseResolved } from './primordials.ts';

export interface Invocation {
  readonly id: number;
  /** 'respond' or 'error' was sent. */
  answered: boolean;
  /** The handler's Response has a stream body that is being read to its end before 'respond'. */
  reading: boolean;
  /** waitUntil() promises not settled yet. */
  pending: number;
  /** 'done' was sent, or the host cancelled: send nothing more. */
  over: boolean;
}

const live: Record<number, Invocation> = ObjectCreate(null);

export function startInvocation(id: number): Invocation {
  const invocation: Invocation = { id, answered: false, reading: false, pending: 0, over: false };
  live[id] = invocation;
  return invocation;
}

/** dispatch('cancel', id) */
export function cancelInvocation(id: number): void {
  const invocation = live[id];
  if (invocation === undefined) return;
  invocation.over = true;
  delete live[id];
}

/**
 * Calls back with the outcome of `value`: a native promise is followed directly (its possibly
 * replaced `then` is not looked up), anything else is resolved as `await` would.
 */
export function settle(value: unknown, onFulfilled: (value: unknown) => void, onRejected: (reason: unknown) => void): void {
  // The prototype test keeps the common cases (a Response, an async function's promise) free of
  // exceptions; the intrinsic `then` still brand-checks, for proxies that lie about their prototype.
  if (typeof value === 'object' && value !== null && ObjectGetPrototypeOf(value) === PromisePrototype) {
    try {
      PromisePrototypeThen(value as Promise<unknown>, onFulfilled, onRejected);
      return;
    } catch {
      // Not a native promise after all.
    }
  }
  PromisePrototypeThen(PromiseResolved(value), onFulfilled, onRejected);
}

/**
 * The handler's result (or what respondWith() got) settled with `value`: answer with it. A stream body
 * is first read to its end here, in the isolate (see http/body.ts); if the stream errors, the
 * invocation fails with that error.
 */
export function answer(invocation: Invocation, value: unknown): void {
  if (invocation.over || invocation.answered || invocation.reading) return;
  const response = responseForHost(value, () => invocation.over);
  if (typeof response === 'string') {
    fail(invocation, new TypeError(`Incorrect type for the fetch handler's result: ${response}.`));
    return;
  }
  const pending = response.pending;
  if (pending === null) {
    respond(invocation, response.status, response.headers, response.body);
    return;
  }
  invocation.reading = true;
  PromisePrototypeThen(
    pending,
    (bytes) => {
      invocation.reading = false;
      respond(invocation, response.status, response.headers, bytes);
    },
    (error) => {
      invocation.reading = false;
      fail(invocation, error);
    },
  );
}

function respond(invocation: Invocation, status: number, headers: HeaderList, body: BridgeBody): void {
  if (invocation.over || invocation.answered) return;
  invocation.answered = true;
  hostRespond(invocation.id, status, headers, body);
  finishIfIdle(invocation);
}

/** The handler threw or its promise rejected: the host answers 500 and logs `stack`. */
export function fail(invocation: Invocation, error: unknown): void {
  if (invocation.over || invocation.answered) {
    if (!invocation.over) logUncaught(error);
    return;
  }
  invocation.answered = true;
  let message: string;
  let stack: string;
  if (isError(error)) {
    message = errorMessage(error);
    stack = errorStack(error);
  } else {
    message = `Uncaught ${inspect(error, { maxLength: 1024, quoteStrings: true })}`;
    stack = message;
  }
  hostError(invocation.id, message, stack);
  finishIfIdle(invocation);
}

/** ctx.waitUntil / FetchEvent.waitUntil: keep the invocation open until `promise` settles. */
export function waitUntil(invocation: Invocation, promise: unknown): void {
  if (invocation.over) return;
  invocation.pending++;
  settle(
    promise,
    () => {
      invocation.pending--;
      finishIfIdle(invocation);
    },
    (reason) => {
      invocation.pending--;
      if (!invocation.over) logUncaught(reason);
      finishIfIdle(invocation);
    },
  );
}

const resolved = PromiseResolved(undefined);

function finishIfIdle(invocation: Invocation): void {
  if (invocation.over || !invocation.answered || invocation.pending !== 0) return;
  // One more microtask turn: a waitUntil() made right after the answer (e.g. after respondWith()
  // in a listener, or in a .then() on the handler's own promise) still counts.
  PromisePrototypeThen(resolved, () => {
    if (invocation.over || invocation.pending !== 0) return;
    invocation.over = true;
    delete live[invocation.id];
    hostDone(invocation.id);
  });
}

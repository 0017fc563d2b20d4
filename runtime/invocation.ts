/**
 * One invocation as the runtime sees it: answered at most once (host 'respond', 'respondStream' or
 * 'error'; a scheduled event answers only a failure), then 'done' once the answer is out (a streamed
 * body to its end) and every waitUntil() promise has settled. A cancelled invocation is forgotten:
 * nothing is sent for it afterwards, whatever its promises do, and its request's signal aborts. The
 * host, not the runtime, knows which invocation is current (for timers and CPU accounting).
 */
import type { BridgeBody, HeaderList } from './host.d.ts';
import { hostDone, hostError, hostRespond, hostRespondStream, hostRespondWebSocket } from './bridge.ts';
import { forgetWebSocket, linkServerEnd } from './workers/websocket.ts';
import { invocationOver } from './batch.ts';
import { DOMException } from './global/dom-exception.ts';
import { abortIncomingRequest, type Request } from './http/request.ts';
import { forgetBody, requestBodyGone } from './streams/host-body.ts';
import { cancelSentBody, sendBody } from './streams/send-body.ts';
import { logUncaught } from './global/console.ts';
import { errorMessage, errorStack, inspect, isError } from './global/inspect.ts';
import { responseForHost } from './http/response.ts';
import { ObjectCreate, ObjectGetPrototypeOf, PromisePrototype, PromisePrototypeThen, PromiseResolved } from './primordials.ts';
import { clearAsyncContext } from './async-context.ts';

export interface Invocation {
  readonly id: number;
  /** 'respond' or 'error' was sent. */
  answered: boolean;
  /** The response body is a stream still being sent. */
  streaming: boolean;
  /** waitUntil() promises not settled yet. */
  pending: number;
  /** 'done' was sent, or the host cancelled: send nothing more. */
  over: boolean;
  /** The client went away: the response is cancelled, waitUntil() work goes on. */
  clientGone: boolean;
  /** The incoming request, once made: its signal aborts if the host cancels. */
  request: Request | null;
  /** A whole response waiting for the end of this microtask turn, to go out with 'done' if it is over by then. */
  unsent: boolean;
}

const live: Record<number, Invocation> = ObjectCreate(null);

export function startInvocation(id: number): Invocation {
  // No AsyncLocalStorage frame carries over from the invocation before.
  clearAsyncContext();
  const invocation: Invocation = { id, answered: false, streaming: false, pending: 0, over: false, clientGone: false, request: null, unsent: false };
  live[id] = invocation;
  return invocation;
}

/** dispatch('cancel', id) */
export function cancelInvocation(id: number): void {
  const invocation = live[id];
  if (invocation === undefined) return;
  invocation.over = true;
  delete live[id];
  const reason = new DOMException('The request was cancelled: the client went away or a limit was reached.', 'AbortError');
  forgetBody(id);
  cancelSentBody(id, reason);
  forgetWebSocket(id);
  if (invocation.request !== null) abortIncomingRequest(invocation.request, reason);
}

/**
 * dispatch('clientGone', id): the client went away before the response was complete. As on Workers, the
 * response is cancelled: nothing more is sent, the request's signal aborts, and a body stream being sent
 * is cancelled, so its source's cancel() runs (it was left unread before). waitUntil() work goes on; the
 * invocation is over once it has settled, at once with none.
 */
export function clientGone(id: number): void {
  const invocation = live[id];
  if (invocation === undefined || invocation.clientGone) return;
  invocation.clientGone = true;
  invocation.answered = true;
  const reason = new DOMException('The client went away before the response was complete.', 'AbortError');
  requestBodyGone(id, 'The request body could not be read: the client went away.');
  if (invocation.streaming) {
    invocation.streaming = false;
    cancelSentBody(id, reason);
    forgetWebSocket(id);
  }
  if (invocation.request !== null) abortIncomingRequest(invocation.request, reason);
  finishIfIdle(invocation);
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
 * is sent as it is read (streams/send-body.ts); if it errors midway, the host ends the response abruptly.
 */
export function answer(invocation: Invocation, value: unknown): void {
  if (invocation.over || invocation.answered) return;
  const response = responseForHost(value);
  if (typeof response === 'string') {
    fail(invocation, new TypeError(`Incorrect type for the fetch handler's result: ${response}.`));
    return;
  }
  if (response.webSocket !== null) {
    // Open until the socket closes, like a streamed body.
    invocation.answered = true;
    invocation.streaming = true;
    hostRespondWebSocket(invocation.id, response.headers);
    linkServerEnd(response.webSocket as Parameters<typeof linkServerEnd>[0], invocation.id, () => {
      invocation.streaming = false;
      finishIfIdle(invocation);
    });
    return;
  }
  const stream = response.stream;
  if (stream === null) {
    respond(invocation, response.status, response.statusText, response.headers, response.body);
    return;
  }
  invocation.answered = true;
  invocation.streaming = true;
  hostRespondStream(invocation.id, response.status, response.headers, response.statusText);
  sendBody(invocation.id, stream, () => invocation.over || invocation.clientGone, (error) => {
    invocation.streaming = false;
    if (invocation.over || invocation.clientGone) return;
    if (error !== null) reportStreamError(invocation, error);
    finishIfIdle(invocation);
  });
}

function respond(invocation: Invocation, status: number, statusText: string, headers: HeaderList, body: BridgeBody): void {
  if (invocation.over || invocation.answered) return;
  invocation.answered = true;
  invocation.unsent = true;
  finishIfIdle(invocation);
  // Queued after finishIfIdle's turn: when that ends the invocation, one host call carries both.
  PromisePrototypeThen(resolved, () => {
    invocation.unsent = false;
    const goOn = hostRespond(invocation.id, status, headers, body, invocation.over, statusText);
    if (invocation.over) invocationOver(invocation.id, goOn);
  });
}

function errorParts(error: unknown): { message: string; stack: string } {
  // What was thrown is the worker's: a Proxy whose traps throw made reading it throw here, and the
  // invocation, already marked answered, never told the host (it waited for its wall-time limit).
  try {
    if (isError(error)) return { message: errorMessage(error), stack: errorStack(error) };
    const message = `Uncaught ${inspect(error, { maxLength: 1024, quoteStrings: true })}`;
    return { message, stack: message };
  } catch {
    return { message: 'Uncaught exception (it could not be described)', stack: 'Uncaught exception (it could not be described)' };
  }
}

/** The response stream errored after the status was sent: the host cuts the response short. */
function reportStreamError(invocation: Invocation, error: unknown): void {
  const { message, stack } = errorParts(error);
  hostError(invocation.id, message, stack);
}

/** The handler threw or its promise rejected: the host answers 500 and logs `stack`. */
export function fail(invocation: Invocation, error: unknown): void {
  if (invocation.over || invocation.answered) {
    if (!invocation.over) logUncaught(error);
    return;
  }
  invocation.answered = true;
  const { message, stack } = errorParts(error);
  hostError(invocation.id, message, stack);
  finishIfIdle(invocation);
}

/** An event that answers nothing (a scheduled event) ran its handler: over once its waitUntil() promises settle. */
export function handled(invocation: Invocation): void {
  if (invocation.over || invocation.answered) return;
  invocation.answered = true;
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
  if (invocation.over || !invocation.answered || invocation.streaming || invocation.pending !== 0) return;
  // One more microtask turn: a waitUntil() made right after the answer (e.g. after respondWith()
  // in a listener, or in a .then() on the handler's own promise) still counts.
  PromisePrototypeThen(resolved, () => {
    if (invocation.over || invocation.streaming || invocation.pending !== 0) return;
    invocation.over = true;
    delete live[invocation.id];
    forgetBody(invocation.id);
    if (invocation.unsent) return;
    invocationOver(invocation.id, hostDone(invocation.id));
  });
}

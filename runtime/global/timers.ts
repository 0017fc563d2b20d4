/**
 * setTimeout, setInterval, clearTimeout, clearInterval
 * (https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html#timers).
 *
 * The host owns the clock: each timer is a one-shot host timer armed with host('setTimer', id, ms);
 * when it fires the host calls dispatch('timer', id), so the callback runs inside a timed host call
 * and counts against the CPU limit of the invocation that armed it. Intervals re-arm before their
 * callback runs, so clearInterval() inside the callback wins.
 */
import { hostClearTimer, hostSetTimer } from '../bridge.ts';
import { MathMax, ObjectCreate, globalThisRef } from '../primordials.ts';
import { applyInAsyncContext, captureAsyncContext } from '../async-context.ts';
import { logUncaught } from './console.ts';

interface Timer {
  callback: Function;
  args: unknown[];
  delayMs: number;
  repeat: boolean;
  /** AsyncLocalStorage's frame when it was set (runtime/async-context.ts). */
  asyncContext: unknown;
}

/** "map of active timers": id → timer. A null-prototype object: tenant code cannot patch its lookups. */
const active: Record<number, Timer> = ObjectCreate(null);
let lastId = 0;

/** Web IDL `long` conversion (ToInt32), then HTML: negative timeouts are 0. */
function toDelayMs(timeout: unknown): number {
  const ms = +(timeout as number) | 0; // ToNumber (a BigInt or Symbol throws, as in Web IDL)
  return ms < 0 ? 0 : ms;
}

function toId(id: unknown): number {
  return +(id as number) | 0;
}

// https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html#timer-initialisation-steps
function start(callback: unknown, timeout: unknown, args: unknown[], repeat: boolean): number {
  if (typeof callback !== 'function') {
    // HTML would compile a string; workers do not evaluate strings as code.
    throw new TypeError(`The "callback" argument must be a function. Received ${typeof callback}.`);
  }
  const id = ++lastId;
  // An interval of 0 would run back to back (the host runs a 0 ms timer at the end of its turn): 1 ms,
  // as Node and browsers space it.
  const delayMs = repeat ? MathMax(1, toDelayMs(timeout)) : toDelayMs(timeout);
  // The host first: it refuses a timer past its limit (it throws), and then none is kept here. It never
  // fires one within this call.
  hostSetTimer(id, delayMs);
  active[id] = { callback, args, delayMs, repeat, asyncContext: captureAsyncContext() };
  return id;
}

export function setTimeout(callback: unknown, timeout?: unknown, ...args: unknown[]): number {
  return start(callback, timeout, args, false);
}

export function setInterval(callback: unknown, timeout?: unknown, ...args: unknown[]): number {
  return start(callback, timeout, args, true);
}

function clear(id: unknown): void {
  const key = toId(id);
  if (active[key] === undefined) return;
  delete active[key];
  hostClearTimer(key);
}

export function clearTimeout(id?: unknown): void {
  clear(id);
}

export function clearInterval(id?: unknown): void {
  clear(id);
}

/** dispatch('timer', id): the host timer fired. Unknown ids (cleared meanwhile) are ignored. */
export function fireTimer(id: number): void {
  const timer = active[id];
  if (timer === undefined) return;
  if (timer.repeat) hostSetTimer(id, timer.delayMs);
  else delete active[id];
  try {
    applyInAsyncContext(timer.asyncContext, timer.callback, globalThisRef, timer.args);
  } catch (error) {
    // "report the exception": the timer's error does not fail anything else.
    logUncaught(error);
  }
}

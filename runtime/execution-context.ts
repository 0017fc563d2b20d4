/**
 * `ctx`, the third argument of a module worker's fetch handler
 * (https://developers.cloudflare.com/workers/runtime-apis/context/).
 */
import { nameClass } from './global/define.ts';
import { type Invocation, waitUntil } from './invocation.ts';
import { ObjectFreeze } from './primordials.ts';

const INTERNAL = ObjectFreeze({});

export class ExecutionContext {
  #invocation: Invocation;

  constructor(token: unknown, invocation: Invocation) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#invocation = invocation;
  }

  /** Keep the invocation alive until `promise` settles (logged if it rejects); 'done' waits for it. */
  waitUntil(promise: unknown): void {
    waitUntil(this.#invocation, promise);
  }

  /** There is no origin behind a worker here to fall through to: accepted and ignored. */
  passThroughOnException(): void {
    this.#invocation; // brand check: TypeError on a foreign receiver
  }
}
nameClass(ExecutionContext, 'ExecutionContext');

export function createExecutionContext(invocation: Invocation): ExecutionContext {
  return new ExecutionContext(INTERNAL, invocation);
}

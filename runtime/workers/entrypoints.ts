/**
 * `cloudflare:workers`: the base classes `WorkerEntrypoint`, `DurableObject` and `RpcTarget`, and `env`.
 *
 * A worker whose default export is a class extending WorkerEntrypoint is class-based, as on Workers:
 * each invocation constructs it with (ctx, env) and calls its `fetch(request)` or `scheduled(controller)`
 * (entry.ts). `env` is the object every handler gets, filled with the bindings before the worker's code
 * runs (entry.ts, 'bindings'), so top-level code reads them too. Durable Objects and RPC are not there
 * (service bindings are, fetch() only: service-binding.ts): the classes exist so that modules written
 * for them import and extend them.
 */
import { setName } from '../global/define.ts';
import { ObjectPrototypeIsPrototypeOf } from '../primordials.ts';

let workerEntrypoint: (abstract new (ctx: unknown, env: unknown) => object) | null = null;
let env: Record<string, unknown> | null = null;

/** The worker's `env`: one object, which the bindings fill and every handler gets. */
export function workerEnv(): Record<string, unknown> {
  return (env ??= {});
}

/** A base class whose instances keep the (ctx, env) they are made with; distinct for each call. */
function contextClass() {
  return class {
    ctx: unknown;
    env: unknown;
    constructor(ctx: unknown, env: unknown) {
      this.ctx = ctx;
      this.env = env;
    }
  };
}

export function loadWorkersModule(): Record<string, unknown> {
  const WorkerEntrypoint = contextClass();
  const DurableObject = contextClass();
  class RpcTarget {}
  setName(WorkerEntrypoint, 'WorkerEntrypoint');
  setName(DurableObject, 'DurableObject');
  setName(RpcTarget, 'RpcTarget');
  workerEntrypoint = WorkerEntrypoint;
  const exports: Record<string, unknown> = { WorkerEntrypoint, DurableObject, RpcTarget, env: workerEnv() };
  exports.default = exports;
  return exports;
}

/** Whether `handler` (a default export) is a class that extends WorkerEntrypoint. */
export function isEntrypointClass(handler: unknown): handler is new (ctx: unknown, env: unknown) => object {
  if (workerEntrypoint === null || typeof handler !== 'function') return false;
  const prototype = (handler as { prototype?: unknown }).prototype;
  return typeof prototype === 'object' && prototype !== null && ObjectPrototypeIsPrototypeOf(workerEntrypoint.prototype, prototype);
}


/**
 * `process` for workers with the nodejs_compat flag, as Workers first gave it: env, nextTick, platform,
 * features, getBuiltinModule and exit. Built as the `node-process` chunk (src/isolates/runtime-bundle.ts);
 * the global `process` and `node:process` are the one object this makes. Like an npm library, it runs
 * with the worker's own globals and is only ever called by the worker.
 *
 * `process.env` starts with what the host put there (the worker's text and secret bindings, when Workers
 * would: src/isolates/builtin-modules.ts) and keeps strings only: what a worker sets is made a string,
 * as in Node. It belongs to the isolate, so what one request sets the next sees, as on Workers.
 */

export interface ProcessPlatform {
  env: Record<string, string>;
  /** The Node.js module `id` names (`node:buffer` or `buffer`), as `require` would give it, or undefined. */
  getBuiltinModule(id: string): unknown;
}

function invalidArgument(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** Defined, not assigned: a variable may be named `__proto__`, which assignment would take as the prototype. */
function setVariable(target: Record<string, string>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value: `${value as string}`, writable: true, enumerable: true, configurable: true });
}

export function makeProcess(platform: ProcessPlatform): object {
  const variables: Record<string, string> = {};
  for (const name of Object.keys(platform.env)) setVariable(variables, name, platform.env[name]);
  const env = new Proxy(variables, {
    set(target, key, value) {
      if (typeof key === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
      setVariable(target, key, value);
      return true;
    },
    defineProperty(target, key, descriptor) {
      if (typeof key === 'symbol' || !('value' in descriptor)) throw new TypeError("'process.env' only accepts a configurable, writable and enumerable data descriptor");
      setVariable(target, key, descriptor.value);
      return true;
    },
  });

  const { queueMicrotask } = globalThis as unknown as { queueMicrotask(callback: () => void): void };
  const process = {
    env,
    platform: 'linux',
    features: Object.freeze({ inspector: false, debug: false, uv: false, ipv6: true, tls_alpn: true, tls_sni: true, tls_ocsp: true, tls: true, cached_builtins: true }),
    /** Runs `callback(...args)` after the current task, before timers (a microtask here). */
    nextTick(callback: (...args: unknown[]) => void, ...args: unknown[]): void {
      if (typeof callback !== 'function') throw invalidArgument('The "callback" argument must be of type function');
      queueMicrotask(() => callback(...args));
    },
    getBuiltinModule(id: unknown): unknown {
      if (typeof id !== 'string') throw invalidArgument('The "id" argument must be of type string');
      return platform.getBuiltinModule(id);
    },
    /** A worker cannot end its isolate: its invocation ends when its response and waitUntil work do. */
    exit(): never {
      throw Object.assign(new Error('process.exit() is not supported: a worker is done when its response is'), { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
    },
  };
  Object.defineProperty(process, Symbol.toStringTag, { value: 'process', configurable: true });
  return process;
}

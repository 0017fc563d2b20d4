/**
 * dispatch(): every entry of the host into the isolate after boot (see host.d.ts).
 *
 *   bindings the version's bindings, before its code runs: the `env` object (cloudflare:workers' too),
 *            and for service-worker syntax every binding as a global
 *   install  find the worker's handlers, module syntax (`export default { fetch, scheduled }`, or a
 *            class extending cloudflare:workers' WorkerEntrypoint) or service-worker syntax
 *            (`addEventListener('fetch' | 'scheduled', …)`)
 *   request  build the Request, run the handler, answer via host('respond' | 'error'), then 'done'
 *   scheduled  run the scheduled handler for a cron trigger; host('error') if it fails, then 'done'
 *   requests several requests with no body or a text one, one after another (batch.ts)
 *   timer    run a timer's callback
 *   cancel   forget an invocation, abort its request's signal
 *   bodyChunk / bodyError   the next piece of a request body the host streams in
 *   pull     the host has room for more of a streamed response body
 *   fetchResult / fetchError   an outbound fetch answered
 *   fetchChunk / fetchBodyError   the next piece of a fetched body the host streams in
 *   d1Result a D1 call answered
 *   wsMessage / wsClosed   a frame from a WebSocket's client, and its end
 *   nodeGlobals   nodejs_compat's globals (Buffer, process) and process.env, before the worker's code runs
 *   builtinLinks  the Node.js modules the worker's imports were linked to, before its code runs
 *
 * Everything tenant-visible it relies on was captured before tenant code ran: the handler at
 * install, intrinsics in primordials.ts, Request/Response internals through module functions.
 */
import type { Dispatch } from './host.d.ts';
import { headerListFromLines } from './bridge.ts';
import { createExecutionContext } from './execution-context.ts';
import { beginDispatch, createFetchEvent, endDispatch, hasResponded, isStopped } from './events/fetch-event.ts';
import { callListener, listenersOf } from './events/listeners.ts';
import { defineGlobal } from './global/define.ts';
import { logUncaught } from './global/console.ts';
import { registries, runFinalizationCallbacks } from './global/finalization-registry.ts';
import { fireTimer } from './global/timers.ts';
import { fetchError, fetchResult } from './http/fetch.ts';
import { createIncomingRequest } from './http/request.ts';
import { bodyChunk, bodyError, fetchBodyError, fetchChunk } from './streams/host-body.ts';
import { resumeBody, resumeFetchBody } from './streams/send-body.ts';
import { chunkLoaded } from './chunks.ts';
import { enterFreshAsyncContext, leaveAsyncContext } from './async-context.ts';
import { forgetBatch, runBatch } from './batch.ts';
import { answer, cancelInvocation, clientGone, fail, handled, settle, startInvocation, type Invocation } from './invocation.ts';
import { createScheduledController, createScheduledEvent } from './events/scheduled-event.ts';
import { wsClosed, wsMessage } from './workers/websocket.ts';
import { createKvNamespace } from './workers/kv.ts';
import { createD1Database, d1Result } from './workers/d1.ts';
import { createServiceBinding } from './workers/service-binding.ts';
import { allowBuiltinLinks, installNodeGlobals, removeBuiltinModuleHook } from './builtin-modules.ts';
import { isEntrypointClass, workerEnv } from './workers/entrypoints.ts';
import { CONFIGURABLE, defineValue, ENUMERABLE, JSONParse, ReflectApply, ReflectConstruct, ReflectOwnKeys, StringPrototypeSplit, WRITABLE } from './primordials.ts';
import type { Request } from './http/request.ts';

type Syntax = 'module' | 'service-worker';

interface Installed {
  syntax: Syntax;
  /** Module syntax: the default export and its fetch and scheduled methods, read once at install. */
  handler: object | null;
  /** The default export is a WorkerEntrypoint class: constructed with (ctx, env) for each invocation. */
  entrypoint: (new (ctx: unknown, env: unknown) => object) | null;
  fetch: Function | null;
  scheduled: Function | null;
  env: Record<string, unknown>;
}

let installed: Installed | null = null;

/**
 * The bindings fill the one `env` object, before the worker's code runs: handlers get it, and
 * `import { env } from 'cloudflare:workers'` is it, top-level code included. KV and D1 bindings' methods
 * refuse to run there (host.d.ts 'kv', 'd1'), as on Workers. Service-worker scripts read bindings as globals.
 */
function bindings(envJson: unknown, made: unknown, asGlobals: unknown): void {
  if (installed !== null) throw new TypeError('The worker is already installed.');
  const values = JSONParse(`${envJson as string}`) as Record<string, unknown>;
  if (typeof values !== 'object' || values === null) throw new TypeError('env must be the JSON of an object.');
  const env = workerEnv();
  // Defined, not assigned: a binding may be named __proto__.
  const bind = (name: string, value: unknown) => {
    defineValue(env, name, value, WRITABLE | ENUMERABLE | CONFIGURABLE);
    if (asGlobals === true) defineGlobal(name, value);
  };
  const keys = ReflectOwnKeys(values);
  for (let i = 0; i < keys.length; i++) bind(keys[i] as string, values[keys[i] as string]);
  if (typeof made === 'string' && made !== '') {
    const entries = StringPrototypeSplit(made, ',');
    for (let i = 0; i < entries.length; i++) {
      const kindAndName = StringPrototypeSplit(entries[i]!, ':');
      const kind = kindAndName[0];
      const name = kindAndName[1]!;
      bind(name, kind === 'd1' ? createD1Database(name) : kind === 'service' ? createServiceBinding(name) : createKvNamespace(name));
    }
  }
}

function install(namespace: unknown): Syntax {
  if (installed !== null) throw new TypeError('The worker is already installed.');
  // The worker's modules have all run, and every built-in module among them has read its exports.
  removeBuiltinModuleHook();
  const env = workerEnv();
  if (namespace !== undefined) {
    const handler = (namespace as { default?: unknown }).default;
    const entrypoint = isEntrypointClass(handler) ? handler : null;
    // A WorkerEntrypoint's methods are its prototype's.
    const methods = entrypoint !== null ? (entrypoint.prototype as object) : handler;
    const isObject = (typeof methods === 'object' && methods !== null) || typeof methods === 'function';
    const fetch = isObject ? (methods as { fetch?: unknown }).fetch : undefined;
    const scheduled = isObject ? (methods as { scheduled?: unknown }).scheduled : undefined;
    if (typeof fetch === 'function' || typeof scheduled === 'function') {
      installed = {
        syntax: 'module',
        handler: handler as object,
        entrypoint,
        fetch: typeof fetch === 'function' ? fetch : null,
        scheduled: typeof scheduled === 'function' ? scheduled : null,
        env,
      };
      return 'module';
    }
    // A single uploaded file runs as a module; with no default export but listeners it is a
    // service-worker script that happens to be valid module code.
    if (handler !== undefined || !hasListeners()) {
      throw new TypeError('The worker has no fetch handler: its main module must `export default { fetch(request, env, ctx) { … } }` (or `scheduled(controller, env, ctx)`, or call addEventListener("fetch", listener)).');
    }
  }
  if (!hasListeners()) {
    throw new TypeError("The worker has no fetch handler: the script must call addEventListener('fetch', listener) (or 'scheduled').");
  }
  installed = { syntax: 'service-worker', handler: null, entrypoint: null, fetch: null, scheduled: null, env };
  return 'service-worker';
}

function hasListeners(): boolean {
  return listenersOf('fetch').length > 0 || listenersOf('scheduled').length > 0;
}

/** `body`: the whole body (its text when it is UTF-8), none, or 'stream' (host.d.ts). */
function request(id: number, method: string, url: string, headers: string, body: ArrayBuffer | string | null | 'stream'): void {
  if (installed === null) throw new TypeError('No worker is installed.');
  const invocation = startInvocation(id);
  let req: Request;
  try {
    req = createIncomingRequest(method, url, headerListFromLines(`${headers}`), body, id);
  } catch (error) {
    fail(invocation, error);
    return;
  }
  invocation.request = req;
  if (installed.syntax === 'service-worker') runFetchListeners(invocation, req);
  else if (installed.fetch === null) fail(invocation, new TypeError('The worker has no fetch handler: its default export has only `scheduled`.'));
  else runModuleHandler(installed, invocation, installed.fetch, req, answer);
}

/** A cron trigger fired: `scheduledTime` is when it was due (ms since the epoch), `cron` its expression. */
function scheduled(id: number, scheduledTime: number, cron: string): void {
  if (installed === null) throw new TypeError('No worker is installed.');
  const invocation = startInvocation(id);
  if (installed.syntax === 'service-worker') runScheduledListeners(invocation, scheduledTime, cron);
  else if (installed.scheduled === null) fail(invocation, new TypeError('The worker has no scheduled handler: its default export must have `scheduled(controller, env, ctx)`.'));
  else runModuleHandler(installed, invocation, installed.scheduled, createScheduledController(scheduledTime, cron), handled);
}

/**
 * Calls a module handler with (`first`, env, ctx), or a WorkerEntrypoint's method with (`first`) on an
 * instance made with (ctx, env); `done` gets the invocation once its result fulfils.
 */
function runModuleHandler(worker: Installed, invocation: Invocation, method: Function, first: unknown, done: (invocation: Invocation, value: unknown) => void): void {
  let result: unknown;
  try {
    const ctx = createExecutionContext(invocation);
    if (worker.entrypoint === null) result = ReflectApply(method, worker.handler, [first, worker.env, ctx]);
    else result = ReflectApply(method, ReflectConstruct(worker.entrypoint, [ctx, worker.env]), [first]);
  } catch (error) {
    fail(invocation, error);
    return;
  }
  settle(
    result,
    (value) => done(invocation, value),
    (error) => fail(invocation, error),
  );
}

/** Service-worker syntax: every 'scheduled' listener runs; one that throws fails the event. */
function runScheduledListeners(invocation: Invocation, scheduledTime: number, cron: string): void {
  const listeners = listenersOf('scheduled');
  if (listeners.length === 0) {
    fail(invocation, new TypeError("The worker has no scheduled handler: the script must call addEventListener('scheduled', listener)."));
    return;
  }
  const event = createScheduledEvent(scheduledTime, cron, invocation);
  let error: { thrown: unknown } | null = null;
  for (let i = 0; i < listeners.length; i++) {
    try {
      callListener('scheduled', listeners[i]!, event);
    } catch (thrown) {
      if (error === null) error = { thrown };
      else logUncaught(thrown);
    }
  }
  if (error !== null) fail(invocation, error.thrown);
  else handled(invocation);
}

// https://w3c.github.io/ServiceWorker/#fetch-event-algorithm, reduced to what a worker can observe.
function runFetchListeners(invocation: Invocation, req: Request): void {
  if (listenersOf('fetch').length === 0) {
    fail(invocation, new TypeError("The worker has no fetch handler: the script registered only 'scheduled' listeners."));
    return;
  }
  const event = createFetchEvent(req, invocation);
  const listeners = listenersOf('fetch');
  let threw = false;
  beginDispatch(event);
  for (let i = 0; i < listeners.length; i++) {
    try {
      callListener('fetch', listeners[i]!, event);
    } catch (error) {
      // A listener's exception fails the request unless a response was already promised.
      if (!threw && !hasResponded(event)) {
        threw = true;
        fail(invocation, error);
      } else {
        logUncaught(error);
      }
    }
    if (isStopped(event)) break;
  }
  const outcome = endDispatch(event);
  if (threw) return;
  if (!outcome.responded) {
    fail(invocation, new TypeError('No response: no fetch event listener called event.respondWith().'));
    return;
  }
  settle(
    outcome.response,
    (value) => answer(invocation, value),
    (error) => fail(invocation, error),
  );
}

export const dispatch = function dispatch(op: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): unknown {
  // 'chunk' comes from inside a running entry (a runtime chunk loaded on first use), a batch's included.
  if (op === 'chunk') return chunkLoaded(a as string, b);
  forgetBatch();
  // Every entry starts with no AsyncLocalStorage frame (one left by another request's enterWith was seen
  // by a WebSocket listener): what it runs carries its own (promise reactions, timers). The frame before
  // is put back after, for an entry made inside another's host call.
  const outerFrame = enterFreshAsyncContext();
  try {
    // FinalizationRegistry callbacks due run first, inside this entry's watched slice, in the entries of
    // an invocation's work (global/finalization-registry.ts): not while the worker installs, nor in a cancel.
    if (registries !== null && installed !== null && op !== 'cancel') runFinalizationCallbacks();
    // A batch's requests come as further arguments (batch.ts).
    return op === 'requests' ? runBatch(arguments, request) : dispatchEntry(op, a, b, c, d, e);
  } finally {
    leaveAsyncContext(outerFrame);
  }
} as Dispatch;

function dispatchEntry(op: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): unknown {
  switch (op) {
    case 'fetchResult':
      return fetchResult(a as number, b as number, c as string[], d as ArrayBuffer | null | 'stream', e as string[]);
    case 'fetchError':
      return fetchError(a as number, b as string, c as string);
    case 'd1Result':
      return d1Result(a as number, b as string);
    case 'request':
      return request(a as number, b as string, c as string, d as string, e as ArrayBuffer | string | null | 'stream');
    case 'scheduled':
      return scheduled(a as number, b as number, c as string);
    case 'fetchChunk':
      return fetchChunk(a as number, b as ArrayBuffer | null);
    case 'fetchBodyError':
      return fetchBodyError(a as number, b as string);
    case 'bodyChunk':
      return bodyChunk(a as number, b as ArrayBuffer | null);
    case 'bodyError':
      return bodyError(a as number, b as string);
    case 'pull':
      return resumeBody(a as number);
    case 'fetchPull':
      return resumeFetchBody(a as number);
    case 'timer':
      return fireTimer(a as number);
    case 'cancel':
      return cancelInvocation(a as number);
    case 'clientGone':
      return clientGone(a as number);
    case 'wsMessage':
      return wsMessage(a as number, b as string | ArrayBuffer);
    case 'wsClosed':
      return wsClosed(a as number, b as number, c as string, d as boolean);
    case 'bindings':
      return bindings(a, b, c);
    case 'install':
      return install(a);
    case 'nodeGlobals':
      return installNodeGlobals(a);
    case 'builtinLinks':
      return allowBuiltinLinks(a);
  }
  throw new TypeError(`Unknown dispatch op: ${op}`);
}

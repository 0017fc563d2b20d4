/**
 * `node:diagnostics_channel` for workers with the nodejs_compat flag, as Workers have it: named
 * channels that libraries publish to (database drivers, HTTP clients, tracing), subscribers, stores
 * bound to a channel (`bindStore`/`runStores`, with AsyncLocalStorage), and tracing channels
 * (`traceSync`, `tracePromise`, `traceCallback` over start/end/asyncStart/asyncEnd/error).
 *
 * Channels are the isolate's, as they are a process's in Node: what one request subscribes the next
 * sees. A subscriber that throws does not stop the others; its error is reported after the publish
 * (as an uncaught error, as Node does). Built as the `node-diagnostics-channel` chunk
 * (src/isolates/runtime-bundle.ts); it runs with the worker's own globals, like an npm library.
 */

import { checkFunction, nodeError } from './node-error.ts';

export interface DiagnosticsChannelPlatform {
  /** Reports an error as uncaught once the current task is done (the runtime's reportError, in a microtask). */
  reportLater(error: unknown): void;
}

type Subscriber = (message: unknown, name: string | symbol) => void;

interface Store {
  run<R>(store: unknown, fn: () => R): R;
}

const TRACE_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type TraceEvent = (typeof TRACE_EVENTS)[number];

export function makeDiagnosticsChannel(platform: DiagnosticsChannelPlatform): Record<string, unknown> {
  const channels = new Map<string | symbol, Channel>();

  class Channel {
    readonly name: string | symbol;
    #subscribers: Subscriber[] = [];
    #stores = new Map<Store, ((message: unknown) => unknown) | undefined>();

    constructor(name: string | symbol) {
      this.name = name;
    }

    get hasSubscribers(): boolean {
      return this.#subscribers.length > 0 || this.#stores.size > 0;
    }

    subscribe(subscription: unknown): void {
      checkFunction(subscription, 'subscription');
      // A new array: a publish under way goes on with the list it started with.
      this.#subscribers = [...this.#subscribers, subscription as Subscriber];
    }

    unsubscribe(subscription: unknown): boolean {
      const at = this.#subscribers.indexOf(subscription as Subscriber);
      if (at === -1) return false;
      this.#subscribers = [...this.#subscribers.slice(0, at), ...this.#subscribers.slice(at + 1)];
      return true;
    }

    publish(message?: unknown): void {
      for (const subscriber of this.#subscribers) {
        try {
          subscriber(message, this.name);
        } catch (error) {
          platform.reportLater(error);
        }
      }
    }

    bindStore(store: Store, transform?: (message: unknown) => unknown): void {
      this.#stores.set(store, transform);
    }

    unbindStore(store: Store): boolean {
      return this.#stores.delete(store);
    }

    /**
     * Runs `fn` inside every bound store, each entered with `data` (or what its transform makes of it),
     * and publishes `data` there, just before `fn`: subscribers see the stores' values, as in Node.
     */
    runStores<R>(data: unknown, fn: (...args: unknown[]) => R, thisArg?: unknown, ...args: unknown[]): R {
      let run = (): R => {
        this.publish(data);
        return Reflect.apply(fn, thisArg, args) as R;
      };
      for (const [store, transform] of this.#stores) {
        const inner = run;
        run = () => {
          let value = data;
          if (transform !== undefined) {
            try {
              value = transform(data);
            } catch (error) {
              platform.reportLater(error);
              return inner();
            }
          }
          return store.run(value, inner);
        };
      }
      return run();
    }
  }

  function channel(name: unknown): Channel {
    if (typeof name !== 'string' && typeof name !== 'symbol') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "channel" argument must be one of type string or symbol.');
    let found = channels.get(name);
    if (found === undefined) channels.set(name, (found = new Channel(name)));
    return found;
  }

  class TracingChannel {
    readonly start!: Channel;
    readonly end!: Channel;
    readonly asyncStart!: Channel;
    readonly asyncEnd!: Channel;
    readonly error!: Channel;

    constructor(nameOrChannels: unknown) {
      if (typeof nameOrChannels === 'string') {
        for (const event of TRACE_EVENTS) this[event] = channel(`tracing:${nameOrChannels}:${event}`);
      } else if (nameOrChannels !== null && typeof nameOrChannels === 'object') {
        for (const event of TRACE_EVENTS) {
          const given = (nameOrChannels as Record<TraceEvent, unknown>)[event];
          if (!(given instanceof Channel)) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "nameOrChannels.${event}" property must be an instance of Channel.`);
          this[event] = given;
        }
      } else {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "nameOrChannels" argument must be of type string or an instance of TracingChannel or Object.');
      }
    }

    get hasSubscribers(): boolean {
      return TRACE_EVENTS.some((event) => this[event].hasSubscribers);
    }

    subscribe(handlers: Partial<Record<TraceEvent, Subscriber>>): void {
      for (const event of TRACE_EVENTS) if (handlers[event]) this[event].subscribe(handlers[event]);
    }

    unsubscribe(handlers: Partial<Record<TraceEvent, Subscriber>>): boolean {
      let all = true;
      for (const event of TRACE_EVENTS) if (handlers[event] && !this[event].unsubscribe(handlers[event])) all = false;
      return all;
    }

    /** `call` inside the start channel's stores, between the start and end events; a throw is an error event. */
    #traced<T>(context: Record<string, unknown>, call: () => T): T {
      return this.start.runStores(context, () => {
        try {
          return call();
        } catch (error) {
          this.#failed(context, error);
          throw error;
        } finally {
          this.end.publish(context);
        }
      });
    }

    #failed(context: Record<string, unknown>, error: unknown): void {
      context.error = error;
      this.error.publish(context);
    }

    traceSync<R>(fn: (...args: unknown[]) => R, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): R {
      if (!this.hasSubscribers) return Reflect.apply(fn, thisArg, args) as R;
      return this.#traced(context, () => (context.result = Reflect.apply(fn, thisArg, args) as R));
    }

    tracePromise<R>(fn: (...args: unknown[]) => R | Promise<R>, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): Promise<R> {
      if (!this.hasSubscribers) return Reflect.apply(fn, thisArg, args) as Promise<R>;
      const settled = () => {
        this.asyncStart.publish(context);
        this.asyncEnd.publish(context);
      };
      return this.#traced(context, () =>
        Promise.resolve(Reflect.apply(fn, thisArg, args) as R | Promise<R>).then(
          (result) => {
            context.result = result;
            settled();
            return result;
          },
          (error: unknown) => {
            this.#failed(context, error);
            settled();
            return Promise.reject(error);
          },
        ),
      );
    }

    /** `fn`'s callback (at `position`, from the end when negative) is wrapped to publish its outcome. */
    traceCallback<R>(fn: (...args: unknown[]) => R, position = -1, context: Record<string, unknown> = {}, thisArg?: unknown, ...args: unknown[]): R {
      if (!this.hasSubscribers) return Reflect.apply(fn, thisArg, args) as R;
      const callback = args.at(position);
      checkFunction(callback, 'callback');
      const tracing = this;
      function wrapped(this: unknown, ...values: unknown[]) {
        const [error, result] = values;
        if (error) tracing.#failed(context, error);
        else context.result = result;
        return tracing.asyncStart.runStores(context, () => {
          try {
            return Reflect.apply(callback as (...values: unknown[]) => unknown, this, values);
          } finally {
            tracing.asyncEnd.publish(context);
          }
        });
      }
      args.splice(position, 1, wrapped);
      return this.#traced(context, () => Reflect.apply(fn, thisArg, args) as R);
    }
  }

  return {
    channel,
    hasSubscribers: (name: unknown) => channels.get(name as string)?.hasSubscribers ?? false,
    subscribe: (name: unknown, subscription: unknown) => channel(name).subscribe(subscription),
    unsubscribe: (name: unknown, subscription: unknown) => channel(name).unsubscribe(subscription),
    tracingChannel: (nameOrChannels: unknown) => new TracingChannel(nameOrChannels),
    Channel,
  };
}

/**
 * Which of a serving process's executors runs an invocation: the serving thread's, where the request was
 * parsed, unless the worker is heavy (allowed more than MAX_SERVING_THREAD_CPU_MS per invocation, or it
 * ran into its CPU limit lately: heavy-workers.ts) or its version is slow to start (slow-starts.ts); those
 * run on the offload thread. A cold start on the serving thread may use QUICK_START_CPU_MS of CPU for its
 * top-level code: one that runs past it is handed back before it has run (onSlowStart) and started again
 * on the offload thread, with the full startup limit, and the version is slow to start from then on. So
 * neither a restart or a recycle (which forget what was slow) nor top-level code that is quick only
 * sometimes lets a cold start hold the serving thread longer.
 */
import type { ExecutorClient, InvocationControl, InvocationHandlers, InvokeParams } from '../isolates/executor-client.ts';
import { heavyByLimits, type HeavyWorkers } from '../limits/heavy-workers.ts';
import type { SlowStarts } from '../limits/slow-starts.ts';
import type { Outcome, Version } from '../types.ts';

export type Invoker = Pick<ExecutorClient, 'invoke'>;

export class InvocationRoutes {
  readonly #serving: ExecutorClient;
  readonly #offload: ExecutorClient;
  readonly #heavy: HeavyWorkers;
  readonly #slowStarts: SlowStarts;
  readonly #onServingThread: Invoker = { invoke: (params, handlers) => this.#invokeOnServingThread(params, handlers) };

  constructor(serving: ExecutorClient, offload: ExecutorClient, heavy: HeavyWorkers, slowStarts: SlowStarts) {
    this.#serving = serving;
    this.#offload = offload;
    this.#heavy = heavy;
    this.#slowStarts = slowStarts;
  }

  executorFor(version: Version): Invoker {
    const offload = heavyByLimits(version.limits) || this.#heavy.has(version.worker) || this.#slowStarts.has(version.id);
    return offload ? this.#offload : this.#onServingThread;
  }

  #invokeOnServingThread(params: InvokeParams, handlers: InvocationHandlers): InvocationControl {
    let moved: InvocationControl | null = null;
    let canceled: Outcome | null = null;
    const first = this.#serving.invoke(params, {
      ...handlers,
      onSlowStart: () => {
        this.#slowStarts.note(params.version.id, Infinity);
        moved = this.#offload.invoke(params, handlers);
        // Canceled while the message was on its way: it ends there, as canceled, and is metered once.
        if (canceled) moved.cancel(canceled);
      },
    });
    // The data plane keeps this control: it reaches whichever executor runs the invocation now.
    const current = () => moved ?? first;
    return {
      cancel: (outcome) => {
        canceled ??= outcome;
        current().cancel(outcome);
      },
      sendBody: (chunk) => current().sendBody(chunk),
      bodyError: (message) => current().bodyError(message),
      ack: (bytes) => current().ack(bytes),
    };
  }
}

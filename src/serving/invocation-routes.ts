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
import type { EndMessage, ResponseMessage } from '../isolates/protocol.ts';
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
    return new ServingThreadInvocation(params, handlers, this.#offload, this.#slowStarts).start(this.#serving);
  }
}

/**
 * An invocation started on the serving thread, which moves to the offload thread if its cold start runs
 * past the quick-start budget (onSlowStart). The handlers the serving executor calls and the control the
 * data plane keeps are this one object, made for every request; the control reaches whichever executor
 * runs the invocation now.
 */
class ServingThreadInvocation implements InvocationHandlers, InvocationControl {
  readonly #params: InvokeParams;
  readonly #handlers: InvocationHandlers;
  readonly #offload: ExecutorClient;
  readonly #slowStarts: SlowStarts;
  /** The executor's control: the serving thread's, or the offload thread's once moved. */
  #current: InvocationControl | null = null;
  #canceled: Outcome | null = null;

  constructor(params: InvokeParams, handlers: InvocationHandlers, offload: ExecutorClient, slowStarts: SlowStarts) {
    this.#params = params;
    this.#handlers = handlers;
    this.#offload = offload;
    this.#slowStarts = slowStarts;
  }

  start(serving: ExecutorClient): this {
    const first = serving.invoke(this.#params, this);
    // Callbacks may run before invoke() returns: a move made then stands, a cancel made then goes out now.
    if (this.#current === null) {
      this.#current = first;
      if (this.#canceled) first.cancel(this.#canceled);
    }
    return this;
  }

  onResponse(message: ResponseMessage): void {
    this.#handlers.onResponse(message);
  }

  onChunk(chunk: ArrayBuffer): void {
    this.#handlers.onChunk(chunk);
  }

  onBodyEnd(): void {
    this.#handlers.onBodyEnd();
  }

  onPullBody(): void {
    this.#handlers.onPullBody();
  }

  onWsSend(data: string | ArrayBuffer): void {
    this.#handlers.onWsSend?.(data);
  }

  onWsClose(code: number, reason: string): void {
    this.#handlers.onWsClose?.(code, reason);
  }

  onFailure(outcome: Outcome): void {
    this.#handlers.onFailure(outcome);
  }

  onEnd(message: EndMessage): void {
    this.#handlers.onEnd(message);
  }

  onSlowStart(): void {
    this.#slowStarts.note(this.#params.version.id, Infinity);
    this.#current = this.#offload.invoke(this.#params, this.#handlers);
    // Canceled while the message was on its way: it ends there, as canceled, and is metered once.
    if (this.#canceled) this.#current.cancel(this.#canceled);
  }

  cancel(outcome: Outcome): void {
    this.#canceled ??= outcome;
    this.#current?.cancel(outcome);
  }

  sendBody(chunk: ArrayBuffer | null): void {
    this.#current?.sendBody(chunk);
  }

  bodyError(message: string): void {
    this.#current?.bodyError(message);
  }

  ack(bytes: number): void {
    this.#current?.ack(bytes);
  }

  wsMessage(data: string | ArrayBuffer): void {
    this.#current?.wsMessage(data);
  }

  wsClosed(code: number, reason: string, wasClean: boolean): void {
    this.#current?.wsClosed(code, reason, wasClean);
  }
}

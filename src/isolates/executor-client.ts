/**
 * An Executor behind a call-and-callback interface: the data plane starts invocations and gets their
 * response, failure and end; the deploy path builds versions. Two transports, one protocol:
 * - in this thread (`inThread`): no hand-off, the fast path;
 * - on a thread of its own (`onOwnThread`): for workers that hold a thread too long, so they cannot
 *   stall this thread's event loop (see src/limits/heavy-workers.ts).
 */
import type { RuntimeBundle } from './runtime-bundle.ts';
import { Worker } from 'node:worker_threads';
import { IsolaneError } from '../errors.ts';
import type { Outcome, Version } from '../types.ts';
import { Executor, type ExecutorOptions } from './executor.ts';
import type { ExecutorThreadData } from './executor-thread.ts';
import type { EndMessage, FromExecutor, LogMessage, RequestData, ResponseMessage, ScheduledEventData, ToExecutor } from './protocol.ts';

export interface InvocationHandlers {
  onResponse(message: ResponseMessage): void;
  /** A chunk of a streamed response body (after onResponse with `streamed`). */
  onChunk(chunk: ArrayBuffer): void;
  /** The streamed response body is complete. */
  onBodyEnd(): void;
  /** The worker wants the next chunk of the streamed request body: answer with sendBody() or bodyError(). */
  onPullBody(): void;
  /** A frame for the client of the invocation's WebSocket (after onResponse with `webSocket`). */
  onWsSend?(data: string | ArrayBuffer): void;
  /** The worker closes its WebSocket. */
  onWsClose?(code: number, reason: string): void;
  onFailure(outcome: Outcome): void;
  onEnd(message: EndMessage): void;
  /**
   * The invocation did not run: its version's cold start ran past this executor's quick-start budget
   * (serving threads only). Nothing was answered; the caller runs it on the offload thread. Without this
   * handler the invocation fails as an internal error.
   */
  onSlowStart?(): void;
}

/** What the data plane can tell a running invocation. */
export interface InvocationControl {
  /** The client went away (or sent too much): end the invocation with `outcome`. */
  cancel(outcome: Outcome): void;
  /** The next chunk of a streamed request body; null at its end. */
  sendBody(chunk: ArrayBuffer | null): void;
  bodyError(message: string): void;
  /** `bytes` of the streamed response were written to the client's connection. */
  ack(bytes: number): void;
  /** A frame from the client of the invocation's WebSocket. */
  wsMessage(data: string | ArrayBuffer): void;
  /** The invocation's WebSocket is closed. */
  wsClosed(code: number, reason: string, wasClean: boolean): void;
}

export interface InvokeParams {
  version: Version;
  requestId: string;
  deadline: number;
  request: RequestData | ScheduledEventData;
}

interface Transport {
  send(message: ToExecutor, transfer?: ArrayBuffer[]): void;
  /** Resolves once the executor holds nothing under way (a spare isolate's preparation). */
  close(): Promise<void>;
}

/** A version built by `validate`. */
export interface Built {
  syntax: 'module' | 'service-worker';
  /** How long the build took (isolate, modules, top-level code), in ms. */
  initMs: number;
}

/**
 * The data plane's hold on one invocation; what it says after the invocation ended is dropped. A class
 * rather than an object of closures: one is made for every request.
 */
class Control implements InvocationControl {
  readonly #client: ExecutorClient;
  readonly #id: number;

  constructor(client: ExecutorClient, id: number) {
    this.#client = client;
    this.#id = id;
  }

  cancel(outcome: Outcome): void {
    this.#client.tell(this.#id, { t: 'cancel', id: this.#id, outcome });
  }

  sendBody(chunk: ArrayBuffer | null): void {
    this.#client.tell(this.#id, { t: 'requestBody', id: this.#id, chunk }, chunk ? [chunk] : undefined);
  }

  bodyError(message: string): void {
    this.#client.tell(this.#id, { t: 'requestBodyError', id: this.#id, message });
  }

  ack(bytes: number): void {
    this.#client.tell(this.#id, { t: 'ack', id: this.#id, bytes });
  }

  wsMessage(data: string | ArrayBuffer): void {
    this.#client.tell(this.#id, { t: 'wsMessage', id: this.#id, data }, data instanceof ArrayBuffer ? [data] : undefined);
  }

  wsClosed(code: number, reason: string, wasClean: boolean): void {
    this.#client.tell(this.#id, { t: 'wsClosed', id: this.#id, code, reason, wasClean });
  }
}

type Connect = (receive: (message: FromExecutor) => void, lost: () => void) => Transport;

export class ExecutorClient {
  readonly #connect: Connect;
  #transport: Transport | null = null;
  readonly #loaded = new Set<string>();
  readonly #pending = new Map<number, InvocationHandlers>();
  readonly #validations = new Map<number, { resolve: (built: Built) => void; reject: (err: IsolaneError) => void }>();
  readonly #onLog: (message: LogMessage) => void;
  #nextId = 1;
  /** Idle isolates whose memory was given back, and the thread CPU that took (memory-reducer.ts). */
  readonly memoryReductions = { count: 0, cpuUs: 0 };
  /** The executor's warm isolates, and those its bounds evicted, as it last reported them. */
  readonly pool = { warm: 0, evicted: 0 };
  /** The executor thread's CPU on the platform's work inside tenants' slices, as it last reported it. */
  platformCpuUs = 0;

  private constructor(connect: Connect, onLog: (message: LogMessage) => void) {
    this.#connect = connect;
    this.#onLog = onLog;
  }

  /** Runs isolates on the calling thread. */
  static inThread(runtime: RuntimeBundle, options: ExecutorOptions, onLog: (message: LogMessage) => void): ExecutorClient {
    return new ExecutorClient((receive) => {
      // The executor answers from inside the tenant's slice (a bridge call); what the answer sets off here
      // (writing the HTTP response, metering) runs after the slice, so it is not charged as the tenant's CPU.
      const executor = new Executor(runtime, options, deferred(receive));
      return { send: (message) => executor.handle(message), close: () => executor.close() };
    }, onLog);
  }

  /** Runs isolates on a worker thread of its own, started on first use and again if it dies. */
  static onOwnThread(runtime: RuntimeBundle, options: ExecutorOptions, onLog: (message: LogMessage) => void): ExecutorClient {
    return new ExecutorClient((receive, lost) => {
      const data: ExecutorThreadData = { runtime, options };
      const worker = new Worker(new URL('./executor-thread.ts', import.meta.url), { workerData: data, name: 'isolane-offload' });
      worker.on('message', receive);
      worker.on('error', (err) => process.emitWarning(`offload executor failed: ${err.stack ?? err.message}`));
      worker.on('exit', lost);
      return {
        send: (message, transfer) => worker.postMessage(message, transfer),
        close: () => {
          worker.postMessage({ t: 'shutdown' });
          // A thread stuck in tenant code past its limits is ended rather than awaited forever.
          setTimeout(() => void worker.terminate(), 2000).unref();
          return new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        },
      };
    }, onLog);
  }

  /** Invocations started and not yet ended. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Starts the executor now rather than on the first call (it warms the runtime's code cache and spares). */
  start(): void {
    this.#transport ??= this.#connect(
      (message) => this.#receive(message),
      () => this.#lost(),
    );
  }

  #send(message: ToExecutor, transfer?: ArrayBuffer[]): void {
    this.start();
    this.#transport!.send(message, transfer);
  }

  /** The thread died: what was in flight there fails; the next call starts a new one. */
  #lost(): void {
    this.#transport = null;
    this.#loaded.clear();
    for (const [id, handlers] of this.#pending) {
      handlers.onFailure('internalError');
      handlers.onEnd({ t: 'end', id, outcome: 'internalError', cold: false, initMs: null, cpuUs: 0, memoryBytes: 0 });
    }
    this.#pending.clear();
    for (const job of this.#validations.values()) job.reject(new IsolaneError('ISO_ERR_DEPLOY_STARTUP', 'the thread building the version was lost'));
    this.#validations.clear();
  }

  #receive(message: FromExecutor): void {
    switch (message.t) {
      case 'response':
        this.#pending.get(message.id)?.onResponse(message);
        return;
      case 'chunk':
        this.#pending.get(message.id)?.onChunk(message.chunk);
        return;
      case 'bodyEnd':
        this.#pending.get(message.id)?.onBodyEnd();
        return;
      case 'pullBody':
        this.#pending.get(message.id)?.onPullBody();
        return;
      case 'wsSend':
        this.#pending.get(message.id)?.onWsSend?.(message.data);
        return;
      case 'wsClose':
        this.#pending.get(message.id)?.onWsClose?.(message.code, message.reason);
        return;
      case 'failure':
        this.#pending.get(message.id)?.onFailure(message.outcome);
        return;
      case 'end': {
        const handlers = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        handlers?.onEnd(message);
        return;
      }
      case 'slowStart': {
        const handlers = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (!handlers) return;
        if (handlers.onSlowStart) {
          handlers.onSlowStart();
          return;
        }
        handlers.onFailure('internalError');
        handlers.onEnd({ t: 'end', id: message.id, outcome: 'internalError', cold: true, initMs: null, cpuUs: 0, memoryBytes: 0 });
        return;
      }
      case 'memoryReduced':
        this.memoryReductions.count++;
        this.memoryReductions.cpuUs += message.cpuUs;
        return;
      case 'pool':
        this.pool.warm = message.warm;
        this.pool.evicted = message.evicted;
        this.platformCpuUs = message.platformCpuUs;
        return;
      case 'log':
        this.#onLog(message);
        return;
      case 'validated': {
        const job = this.#validations.get(message.jobId);
        this.#validations.delete(message.jobId);
        if (!job) return;
        if (message.error) job.reject(new IsolaneError(message.error.code, message.error.message, { details: message.error.details }));
        else job.resolve({ syntax: message.syntax!, initMs: message.initMs ?? 0 });
        return;
      }
    }
  }

  #ensureLoaded(version: Version): void {
    if (this.#loaded.has(version.id)) return;
    this.#loaded.add(version.id);
    this.#send({ t: 'load', version });
  }

  /** Starts an invocation. Callbacks may run before this returns. */
  invoke(params: InvokeParams, handlers: InvocationHandlers): InvocationControl {
    this.#ensureLoaded(params.version);
    const id = this.#nextId++;
    this.#pending.set(id, handlers);
    const body = 'body' in params.request ? params.request.body : null;
    this.#send(
      { t: 'invoke', id, requestId: params.requestId, worker: params.version.worker, versionId: params.version.id, deadline: params.deadline, request: params.request },
      body instanceof ArrayBuffer ? [body] : undefined,
    );
    return new Control(this, id);
  }

  /** Sends `message` about invocation `id` unless it has ended (what Control says). */
  tell(id: number, message: ToExecutor, transfer?: ArrayBuffer[]): void {
    if (this.#pending.has(id)) this.#send(message, transfer);
  }

  /**
   * Builds the version in a fresh isolate and keeps it warm; rejects with a deploy error. `startupCpuMs`
   * lowers the startup limit for this build (the error's details.startupCpuMs says when it ran out).
   */
  validate(version: Version, startupCpuMs?: number): Promise<Built> {
    this.#ensureLoaded(version);
    const jobId = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#validations.set(jobId, { resolve, reject });
      this.#send({ t: 'validate', jobId, versionId: version.id, startupCpuMs });
    });
  }

  /** The version is no longer live: its isolate retires once idle. */
  unload(versionId: string): void {
    if (this.#loaded.delete(versionId)) this.#send({ t: 'unload', versionId });
  }

  /** The worker is deleted (an executor not started has nothing of it). */
  forgetWorker(worker: string): void {
    if (this.#transport) this.#send({ t: 'forgetWorker', worker });
  }

  close(): Promise<void> {
    const closing = this.#transport?.close() ?? Promise.resolve();
    this.#transport = null;
    return closing;
  }
}

/**
 * `receive` called for each message after the current task, in order: one microtask for all the messages
 * posted until then (a batch of requests posts two or more each), not one each.
 */
function deferred(receive: (message: FromExecutor) => void): (message: FromExecutor) => void {
  const inbox: FromExecutor[] = [];
  let next = 0;
  const drain = () => {
    try {
      while (next < inbox.length) receive(inbox[next++]!);
    } finally {
      // A handler that threw leaves the rest for another microtask.
      if (next < inbox.length) queueMicrotask(drain);
      else inbox.length = next = 0;
    }
  };
  return (message) => {
    if (inbox.push(message) === 1) queueMicrotask(drain);
  };
}

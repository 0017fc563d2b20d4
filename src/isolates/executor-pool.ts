/**
 * The main thread's side of the executors: one worker thread per core runs isolates, so tenant code
 * never blocks the HTTP event loop. A worker's requests always go to the same thread (hash of its name),
 * where its warm isolate lives. Messages are matched to invocations by id.
 */
import { Worker } from 'node:worker_threads';
import { IsolaneError } from '../errors.ts';
import type { Version } from '../types.ts';
import type { ExecutorThreadData } from './executor-thread.ts';
import type { IsolatePoolOptions } from './isolate-pool.ts';
import type { EndMessage, FromExecutor, LogMessage, RequestData, ResponseMessage, ToExecutor } from './protocol.ts';
import type { Outcome } from '../types.ts';

export interface InvocationHandlers {
  onResponse(message: ResponseMessage): void;
  onFailure(outcome: Outcome): void;
  onEnd(message: EndMessage): void;
}

export interface InvokeParams {
  version: Version;
  requestId: string;
  deadline: number;
  request: RequestData;
}

interface Thread {
  worker: Worker;
  loaded: Set<string>;
  pending: Map<number, InvocationHandlers>;
}

export class ExecutorPool {
  readonly #threads: Thread[] = [];
  readonly #data: ExecutorThreadData;
  readonly #onLog: (message: LogMessage) => void;
  readonly #validations = new Map<number, { resolve: (syntax: 'module' | 'service-worker') => void; reject: (err: IsolaneError) => void }>();
  #nextId = 1;
  #closing = false;

  constructor(threads: number, runtimeCode: string, pool: IsolatePoolOptions, onLog: (message: LogMessage) => void) {
    this.#data = { runtimeCode, pool };
    this.#onLog = onLog;
    for (let i = 0; i < threads; i++) this.#threads.push(this.#spawn(i));
  }

  #spawn(index: number): Thread {
    const worker = new Worker(new URL('./executor-thread.ts', import.meta.url), { workerData: this.#data, name: `isolane-executor-${index}` });
    const thread: Thread = { worker, loaded: new Set(), pending: new Map() };
    worker.on('message', (message: FromExecutor) => this.#receive(thread, message));
    worker.on('error', (err) => process.emitWarning(`executor ${index} failed: ${err.message}`));
    worker.on('exit', () => {
      // Everything in flight on a lost thread fails; a new thread takes its place.
      for (const [id, handlers] of thread.pending) {
        handlers.onFailure('internalError');
        handlers.onEnd({ t: 'end', id, outcome: 'internalError', cold: false, initMs: null, cpuUs: 0, memoryBytes: 0 });
      }
      thread.pending.clear();
      if (!this.#closing) this.#threads[index] = this.#spawn(index);
    });
    return thread;
  }

  #receive(thread: Thread, message: FromExecutor): void {
    switch (message.t) {
      case 'response':
        thread.pending.get(message.id)?.onResponse(message);
        return;
      case 'failure':
        thread.pending.get(message.id)?.onFailure(message.outcome);
        return;
      case 'end': {
        const handlers = thread.pending.get(message.id);
        thread.pending.delete(message.id);
        handlers?.onEnd(message);
        return;
      }
      case 'log':
        this.#onLog(message);
        return;
      case 'validated': {
        const job = this.#validations.get(message.jobId);
        this.#validations.delete(message.jobId);
        if (!job) return;
        if (message.error) job.reject(new IsolaneError(message.error.code, message.error.message, { details: message.error.details }));
        else job.resolve(message.syntax!);
        return;
      }
    }
  }

  #threadFor(worker: string): Thread {
    // FNV-1a: stable, cheap, spreads names evenly.
    let hash = 0x811c9dc5;
    for (let i = 0; i < worker.length; i++) hash = Math.imul(hash ^ worker.charCodeAt(i), 0x01000193);
    return this.#threads[(hash >>> 0) % this.#threads.length]!;
  }

  #send(thread: Thread, message: ToExecutor, transfer?: ArrayBuffer[]): void {
    thread.worker.postMessage(message, transfer);
  }

  #ensureLoaded(thread: Thread, version: Version): void {
    if (thread.loaded.has(version.id)) return;
    thread.loaded.add(version.id);
    this.#send(thread, { t: 'load', version });
  }

  /** Starts an invocation; returns a function that cancels it (client gone). */
  invoke(params: InvokeParams, handlers: InvocationHandlers): () => void {
    const thread = this.#threadFor(params.version.worker);
    this.#ensureLoaded(thread, params.version);
    const id = this.#nextId++;
    thread.pending.set(id, handlers);
    const { body } = params.request;
    this.#send(
      thread,
      { t: 'invoke', id, requestId: params.requestId, worker: params.version.worker, versionId: params.version.id, deadline: params.deadline, request: params.request },
      body ? [body] : undefined,
    );
    return () => {
      if (thread.pending.has(id)) this.#send(thread, { t: 'cancel', id });
    };
  }

  /** Builds the version in the thread that will serve it; resolves with its syntax or rejects with a deploy error. */
  validate(version: Version): Promise<'module' | 'service-worker'> {
    const thread = this.#threadFor(version.worker);
    this.#ensureLoaded(thread, version);
    const jobId = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#validations.set(jobId, { resolve, reject });
      this.#send(thread, { t: 'validate', jobId, versionId: version.id });
    });
  }

  /** The version is no longer live anywhere: its isolates retire once idle. */
  unload(versionId: string): void {
    for (const thread of this.#threads) {
      if (thread.loaded.delete(versionId)) this.#send(thread, { t: 'unload', versionId });
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#threads.map(
        (thread) =>
          new Promise<void>((resolve) => {
            thread.worker.once('exit', () => resolve());
            this.#send(thread, { t: 'shutdown' });
            // A thread stuck in tenant code past its limits is ended rather than awaited forever.
            setTimeout(() => void thread.worker.terminate(), 2000).unref();
          }),
      ),
    );
  }
}

/**
 * The main thread's side of the serving threads: starts one per core on the shared data-plane port,
 * sends them every change of what is live (and the whole of it to a thread that (re)starts), knows when
 * all of them apply a change, routes deploy validation to one of them, and collects their metering.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { IsolaneError, type ErrorCode } from '../errors.ts';
import type { Route, Version } from '../types.ts';
import type { FromServing, Metering, ServingThreadData, ToServing } from './protocol.ts';

interface Thread {
  worker: Worker;
  applied: number;
  listening: Promise<void>;
}

export interface ServingPoolOptions extends Omit<ServingThreadData, 'port'> {
  threads: number;
  /** 0 picks a free port. */
  port: number;
  onMetering(message: Metering): void;
}

export class ServingPool {
  readonly #options: ServingPoolOptions;
  readonly #threads: Thread[] = [];
  readonly #versions = new Map<string, Version>();
  #routes: Route[] = [];
  #seq = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];
  readonly #validations = new Map<number, { resolve: (syntax: 'module' | 'service-worker') => void; reject: (err: IsolaneError) => void }>();
  #nextJob = 1;
  #port = 0;
  #closing = false;

  private constructor(options: ServingPoolOptions) {
    this.#options = options;
  }

  /** Starts the threads and resolves once all of them listen. */
  static async start(options: ServingPoolOptions): Promise<ServingPool> {
    const pool = new ServingPool(options);
    // With port 0 every SO_REUSEPORT listener would get its own port: reserve one, share it, then let go.
    const reserved = createServer();
    await new Promise<void>((resolve, reject) => {
      reserved.once('error', reject);
      reserved.listen({ port: options.port, host: options.host, reusePort: true }, resolve);
    });
    pool.#port = (reserved.address() as AddressInfo).port;
    try {
      for (let i = 0; i < options.threads; i++) pool.#threads.push(pool.#spawn(i));
      await Promise.all(pool.#threads.map((t) => t.listening));
    } finally {
      reserved.close();
    }
    return pool;
  }

  get port(): number {
    return this.#port;
  }

  #spawn(index: number): Thread {
    const { threads: _threads, onMetering: _onMetering, ...rest } = this.#options;
    const data: ServingThreadData = { ...rest, port: this.#port };
    const worker = new Worker(new URL('./serving-thread.ts', import.meta.url), { workerData: data, name: `isolane-serving-${index}` });
    let listened: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    const thread: Thread = { worker, applied: 0, listening: new Promise((resolve, reject) => ((listened = resolve), (failed = reject))) };
    worker.on('message', (message: FromServing) => {
      switch (message.t) {
        case 'listening':
          listened();
          return;
        case 'applied':
          thread.applied = Math.max(thread.applied, message.seq);
          this.#wake();
          return;
        case 'validated': {
          const job = this.#validations.get(message.jobId);
          this.#validations.delete(message.jobId);
          if (!job) return;
          if (message.error) job.reject(new IsolaneError(message.error.code as ErrorCode, message.error.message, { details: message.error.details }));
          else job.resolve(message.syntax!);
          return;
        }
        case 'metering':
          this.#options.onMetering(message);
          return;
      }
    });
    worker.on('error', (err) => {
      failed(err);
      process.emitWarning(`serving thread ${index} failed: ${err.stack ?? err.message}`);
    });
    worker.on('exit', () => {
      // Its connections and in-flight requests are lost; a new thread takes its place with the full state.
      if (this.#closing) return;
      const replacement = this.#spawn(index);
      this.#threads[index] = replacement;
      this.#wake();
    });
    // Bring the thread up to date: every live worker, then the routes.
    for (const [name, version] of this.#versions) this.#send(thread, { t: 'worker', seq: this.#seq, name, version });
    this.#send(thread, { t: 'routes', seq: this.#seq, routes: this.#routes });
    return thread;
  }

  #send(thread: Thread, message: ToServing): void {
    thread.worker.postMessage(message);
  }

  #broadcast(message: ToServing): void {
    for (const thread of this.#threads) this.#send(thread, message);
  }

  #wake(): void {
    const applied = Math.min(...this.#threads.map((t) => t.applied));
    this.#waiters = this.#waiters.filter((w) => (w.seq <= applied ? (w.resolve(), false) : true));
  }

  /** A worker's active version changed (null: deleted). */
  setWorker(name: string, version: Version | null): void {
    if (version) this.#versions.set(name, version);
    else this.#versions.delete(name);
    this.#broadcast({ t: 'worker', seq: ++this.#seq, name, version });
  }

  setRoutes(routes: Route[]): void {
    this.#routes = routes;
    this.#broadcast({ t: 'routes', seq: ++this.#seq, routes });
  }

  /** Resolves when every thread serves every change made so far. */
  settled(): Promise<void> {
    const seq = this.#seq;
    return new Promise((resolve) => {
      this.#waiters.push({ seq, resolve });
      this.#wake();
    });
  }

  /** Builds the version on one thread (compile, link, start, find the handler), then warms it on the others. */
  async validate(version: Version): Promise<'module' | 'service-worker'> {
    const [first, ...others] = this.#threads;
    const jobId = this.#nextJob++;
    const syntax = await new Promise<'module' | 'service-worker'>((resolve, reject) => {
      this.#validations.set(jobId, { resolve, reject });
      this.#send(first!, { t: 'validate', jobId, version });
    });
    for (const thread of others) this.#send(thread, { t: 'warm', version });
    return syntax;
  }

  /** Stops every thread: in-flight requests get `graceMs` to finish. */
  async close(graceMs = 0): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#threads.map(
        (thread) =>
          new Promise<void>((resolve) => {
            thread.worker.once('exit', () => resolve());
            this.#send(thread, { t: 'shutdown', graceMs });
            // A thread stuck in tenant code past its limits is ended rather than awaited forever.
            setTimeout(() => void thread.worker.terminate(), graceMs + 2000).unref();
          }),
      ),
    );
  }
}

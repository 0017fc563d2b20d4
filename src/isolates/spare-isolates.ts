/**
 * Isolates prepared ahead of time (runtime loaded and booted, no worker), so a cold start only loads the
 * worker's own code: the ~3 ms of isolate creation and runtime start move off the request's path into the
 * executor's idle time. Only for the default memory limit (an isolate's limit is fixed when it is made);
 * a worker with another limit builds its isolate from scratch.
 */
import { DEFAULT_LIMITS } from '../types.ts';
import type { RuntimeBundle } from './runtime-bundle.ts';
import { exitOnCatastrophicError, PreparedIsolate } from './tenant-isolate.ts';

export class SpareIsolates {
  readonly #runtime: RuntimeBundle;
  readonly #target: number;
  readonly #spares: PreparedIsolate[] = [];
  #refill: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(runtime: RuntimeBundle, target: number) {
    this.#runtime = runtime;
    this.#target = target;
    this.#refillSoon();
  }

  /** A prepared isolate for `memoryMb`, or null (none left, or another limit). */
  take(memoryMb: number): PreparedIsolate | null {
    if (memoryMb !== DEFAULT_LIMITS.memoryMb) return null;
    const spare = this.#spares.pop() ?? null;
    this.#refillSoon();
    return spare;
  }

  /**
   * One at a time, each in its own turn of the event loop, so requests are not held up by a batch. On a
   * timer, which runs before the turn reads its sockets: an immediate runs after, where the executor
   * runs the requests the turn read (request-batches.ts), and a refill there held them up (a cold start's
   * first request waited for it: TTFB 7 → 15 ms).
   */
  #refillSoon(): void {
    if (this.#refill || this.#closed || this.#spares.length >= this.#target) return;
    this.#refill = setTimeout(() => {
      this.#refill = null;
      if (this.#closed || this.#spares.length >= this.#target) return;
      try {
        this.#spares.push(PreparedIsolate.create(this.#runtime, DEFAULT_LIMITS.memoryMb, exitOnCatastrophicError));
      } catch (err) {
        process.emitWarning(`could not prepare a spare isolate: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      this.#refillSoon();
    }, 0);
    this.#refill.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#refill) clearTimeout(this.#refill);
    for (const spare of this.#spares.splice(0)) spare.dispose();
  }
}

/**
 * Isolates prepared ahead of time (runtime loaded and booted, no worker), so a cold start only loads the
 * worker's own code: the ~6 ms of isolate creation and runtime start move off the request's path, most of
 * it off the serving thread too. Only for the default memory limit (an isolate's limit is fixed when it is made);
 * a worker with another limit builds its isolate from scratch.
 */
import { DEFAULT_LIMITS } from '../types.ts';
import type { RuntimeBundle } from './runtime-bundle.ts';
import { exitOnCatastrophicError, PreparedIsolate } from './tenant-isolate.ts';
import { WorkUnderWay } from './work-under-way.ts';

/** After a failed preparation, how long none is started. */
const RETRY_AFTER_FAILURE_MS = 1000;

export class SpareIsolates {
  readonly #runtime: RuntimeBundle;
  readonly #target: number;
  readonly #spares: PreparedIsolate[] = [];
  #refill: NodeJS.Timeout | null = null;
  readonly #preparing = new WorkUnderWay();
  /** When a preparation last failed (performance.now()): none is started for a while after. */
  #failedAt = -Infinity;
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

  /** Whether take(memoryMb) would return a spare. */
  ready(memoryMb: number): boolean {
    return memoryMb === DEFAULT_LIMITS.memoryMb && this.#spares.length > 0;
  }

  /**
   * Settles when a preparation under way for `memoryMb` ends, with whether it made a spare (a failed
   * one would fail again: the caller builds its own); null if there is none and none is needed
   * (a spare is ready, another limit, closed). A cold start that found no spare waits for it rather than
   * build an isolate on its thread: the wait holds no thread, the building ~4.5 ms of it. A refill still
   * waiting for its timer starts now: that holds the thread for `new ivm.Isolate` only (~1.5 ms).
   */
  preparing(memoryMb: number): Promise<boolean> | null {
    if (memoryMb !== DEFAULT_LIMITS.memoryMb || this.#closed) return null;
    if (this.#preparing.size === 0 && this.#failing()) return null;
    if (this.#preparing.size === 0) {
      if (this.#spares.length > 0) return null;
      if (this.#refill) clearTimeout(this.#refill);
      this.#refill = null;
      this.#prepareOne();
    }
    return this.#preparing.first().then((prepared) => prepared === true);
  }

  /**
   * Until the target is met, spares prepared or under way. Each is started from a timer, which runs
   * before the turn reads its sockets: an immediate runs after, where the executor runs the requests
   * the turn read (request-batches.ts), and a refill there held them up (a cold start's first request
   * waited for it: TTFB 7 → 15 ms).
   */
  #refillSoon(): void {
    if (this.#refill || this.#closed || this.#failing() || this.#spares.length + this.#preparing.size >= this.#target) return;
    this.#refill = setTimeout(() => {
      this.#refill = null;
      if (this.#closed || this.#spares.length + this.#preparing.size >= this.#target) return;
      this.#prepareOne();
      this.#refillSoon();
    }, 0);
    this.#refill.unref();
  }

  /**
   * One preparation, mostly on isolated-vm's threads (PreparedIsolate.prepare): only `new ivm.Isolate`
   * holds this one, so several can be under way.
   */
  #prepareOne(): void {
    const preparing = PreparedIsolate.prepare(this.#runtime, DEFAULT_LIMITS.memoryMb, exitOnCatastrophicError).then(
      (spare) => {
        if (this.#closed) spare.dispose();
        else this.#spares.push(spare);
        return true;
      },
      (err: unknown) => {
        this.#failedAt = performance.now();
        process.emitWarning(`could not prepare a spare isolate: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      },
    );
    this.#preparing.add(preparing);
    // Once it no longer counts as under way (the refill counts spares and preparations together); not
    // after a failure, which would only fail again at once.
    void preparing.then((prepared) => prepared && this.#refillSoon());
  }

  /**
   * Whether a preparation failed lately: another would most likely fail too (the process out of memory
   * or address space), and one failing at once retried from the refill's timer spun the thread. Cold
   * starts meanwhile build their own isolates.
   */
  #failing(): boolean {
    return performance.now() - this.#failedAt < RETRY_AFTER_FAILURE_MS;
  }

  /** Resolves once no preparation is under way (each disposes its spare as it ends: work-under-way.ts). */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#refill) clearTimeout(this.#refill);
    for (const spare of this.#spares.splice(0)) spare.dispose();
    return this.#preparing.settled();
  }
}

/**
 * Gives memory back from warm isolates that have gone idle, as V8's own memory reducer does for a page
 * left in the background. After serving, an isolate keeps both semi-spaces of its young generation and
 * some pooled pages committed; a full collection in V8's memory-reducing mode releases them (hello world:
 * 2.43 → 2.11 MB of RSS per isolate, ~3 ms of GC, and the next request is as fast as before).
 *
 * Each isolate is reduced once per idle period: `afterMs` after its last invocation ended, oldest first,
 * one per turn of the event loop. A reduction holds the thread, so after one that took d ms the next
 * waits 3d: at most a quarter of the thread goes to this even when thousands go idle together. Its pause
 * grows with the heap (~1 ms per MB in use), while what it gives back does not: isolates with more than
 * MAX_HEAP_BYTES in use are left to V8.
 */

export interface ReducibleIsolate {
  readonly inflight: number;
  readonly disposed: boolean;
  /** The most heap (plus external memory) it was measured to use. */
  readonly peakMemoryBytes: number;
  /** Runs the collection (and any other idle upkeep); returns the thread CPU it took, in microseconds. */
  reduceMemory(): number;
}

/** Heap in use above which a reduction's pause (~1 ms per MB) is not worth its ~0.3 MB. */
const MAX_HEAP_BYTES = 8 * 1024 * 1024;
/** Share of the thread's time reductions may take: wait this many times a reduction's length after it. */
const PAUSE_FACTOR = 3;

export class MemoryReducer<T extends ReducibleIsolate> {
  readonly #afterMs: number;
  readonly #onReduced: (cpuUs: number) => void;
  /** Idle isolates by when they went idle; a Map keeps insertion order, so the oldest is first. */
  readonly #idleSince = new Map<T, number>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  #closed = false;

  /** `afterMs` 0 turns reduction off. */
  constructor(afterMs: number, onReduced: (cpuUs: number) => void) {
    this.#afterMs = afterMs;
    this.#onReduced = onReduced;
  }

  /** The isolate's last invocation ended (or it was built and not used yet). */
  idle(isolate: T): void {
    if (this.#afterMs <= 0 || this.#closed) return;
    this.#idleSince.delete(isolate);
    this.#idleSince.set(isolate, performance.now());
    if (this.#idleSince.size === 1) this.#wakeAt(performance.now() + this.#afterMs);
  }

  /** An invocation started: the isolate is in use again. */
  busy(isolate: T): void {
    this.#idleSince.delete(isolate);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#idleSince.clear();
  }

  #wakeAt(at: number): void {
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#reduceNext(), Math.max(0, at - performance.now())).unref();
  }

  #reduceNext(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = performance.now();
    for (const [isolate, since] of this.#idleSince) {
      if (since + this.#afterMs > now) return this.#wakeAt(since + this.#afterMs);
      this.#idleSince.delete(isolate);
      if (isolate.disposed || isolate.inflight > 0 || isolate.peakMemoryBytes > MAX_HEAP_BYTES) continue;
      const started = performance.now();
      this.#onReduced(isolate.reduceMemory());
      if (this.#idleSince.size > 0) this.#wakeAt(performance.now() + (performance.now() - started) * PAUSE_FACTOR);
      return;
    }
  }
}

/**
 * Warm isolates of one executor thread, by version id, in an LRU bounded by count and by memory
 * (heap statistics measured after each invocation). Idle ones expire so an unused worker costs nothing.
 * An isolate leaving the pool while invocations still run on it retires: it is disposed when they end.
 */
import { LRUCache } from 'lru-cache';

export interface PooledIsolate {
  inflight: number;
  retiring: boolean;
  memoryBytes(): number;
  dispose(): void;
}

export interface IsolatePoolOptions {
  maxIsolates: number;
  maxMemoryBytes: number;
  idleMs: number;
}

export class IsolatePool<T extends PooledIsolate> {
  readonly #cache: LRUCache<string, T>;
  readonly #sizes = new WeakMap<T, number>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: IsolatePoolOptions) {
    this.#cache = new LRUCache<string, T>({
      max: options.maxIsolates,
      maxSize: options.maxMemoryBytes,
      sizeCalculation: (isolate) => Math.max(1, this.#sizes.get(isolate) ?? isolate.memoryBytes()),
      ttl: options.idleMs,
      updateAgeOnGet: true,
      dispose: (isolate) => retire(isolate),
    });
    // One coarse sweep instead of a timer per isolate.
    this.#sweeper = setInterval(() => this.#cache.purgeStale(), Math.min(options.idleMs, 10_000)).unref();
  }

  get(versionId: string): T | undefined {
    return this.#cache.get(versionId);
  }

  add(versionId: string, isolate: T): void {
    this.#sizes.set(isolate, isolate.memoryBytes());
    this.#cache.set(versionId, isolate);
  }

  /** Re-measure after an invocation so the memory bound follows real heap use. */
  remeasure(versionId: string, isolate: T, bytes: number): void {
    const previous = this.#sizes.get(isolate) ?? 0;
    if (Math.abs(bytes - previous) < previous / 4) return;
    this.#sizes.set(isolate, bytes);
    if (this.#cache.peek(versionId) === isolate) this.#cache.set(versionId, isolate);
  }

  /** Take the isolate out (it retires); used on unload and after a failure that poisons it. */
  remove(versionId: string, isolate?: T): void {
    if (isolate === undefined || this.#cache.peek(versionId) === isolate) this.#cache.delete(versionId);
    else if (isolate) retire(isolate);
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#cache.clear();
  }
}

function retire(isolate: PooledIsolate): void {
  if (isolate.inflight > 0) isolate.retiring = true;
  else isolate.dispose();
}

/**
 * Warm isolates of one executor thread, by version id, in an LRU bounded by count, by memory (heap
 * statistics measured after each invocation) and by the memory mappings they take (see
 * limits/map-count.ts). Idle ones expire so an unused worker costs nothing. An isolate leaving the pool
 * while invocations still run on it retires: it is disposed when they end.
 */
import { LRUCache } from 'lru-cache';
import { mappingsOf } from '../limits/map-count.ts';

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
  /** This thread's share of the process's memory mappings (null: no such bound on this OS). */
  maxMappings?: number | null;
}

/** The pool's entry: the isolate and the memory it was last measured to use. */
interface Entry<T> {
  isolate: T;
  bytes: number;
}

export class IsolatePool<T extends PooledIsolate> {
  readonly #cache: LRUCache<string, Entry<T>>;
  readonly #sweeper: NodeJS.Timeout;
  readonly #maxMappings: number | null;
  #evicted = 0;

  constructor(options: IsolatePoolOptions) {
    this.#maxMappings = options.maxMappings ?? null;
    this.#cache = new LRUCache<string, Entry<T>>({
      max: options.maxIsolates,
      maxSize: options.maxMemoryBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      ttl: options.idleMs,
      updateAgeOnGet: true,
      dispose: (entry, _versionId, reason) => {
        if (reason === 'evict') this.#evicted++;
        retire(entry.isolate);
      },
    });
    // One coarse sweep instead of a timer per isolate.
    this.#sweeper = setInterval(() => this.#cache.purgeStale(), Math.min(options.idleMs, 10_000)).unref();
  }

  /** Warm isolates held now. */
  get size(): number {
    return this.#cache.size;
  }

  /** Isolates pushed out so far by a bound (count, memory or mappings), not by idling or an unload. */
  get evicted(): number {
    return this.#evicted;
  }

  get(versionId: string): T | undefined {
    return this.#cache.get(versionId)?.isolate;
  }

  /**
   * Returns whether the pool keeps it. One bigger than the whole memory bound is not kept (lru-cache
   * refuses it without a word): the caller disposes of it when it is done with it.
   */
  add(versionId: string, isolate: T): boolean {
    this.#cache.set(versionId, { isolate, bytes: isolate.memoryBytes() });
    if (this.#cache.peek(versionId)?.isolate !== isolate) return false;
    this.#fitMappings();
    return true;
  }

  /**
   * Re-measure after an invocation so the memory bound follows real heap use. A new entry, since the
   * cache sizes an entry only when its value changes; the isolate itself stays (no dispose on set).
   */
  remeasure(versionId: string, isolate: T, bytes: number): void {
    const entry = this.#cache.peek(versionId);
    if (entry?.isolate !== isolate || Math.abs(bytes - entry.bytes) < entry.bytes / 4) return;
    this.#cache.set(versionId, { isolate, bytes }, { noDisposeOnSet: true });
    this.#fitMappings();
  }

  /** Least recently used out until the isolates' mappings fit (the newest always stays). */
  #fitMappings(): void {
    if (this.#maxMappings === null) return;
    while (this.#cache.size > 1 && mappingsOf(this.#cache.size, this.#cache.calculatedSize) > this.#maxMappings) this.#cache.pop();
  }

  /** Take the isolate out (it retires); used on unload and after a failure that poisons it. */
  remove(versionId: string, isolate?: T): void {
    if (isolate === undefined || this.#cache.peek(versionId)?.isolate === isolate) this.#cache.delete(versionId);
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

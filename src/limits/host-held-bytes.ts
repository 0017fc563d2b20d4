/**
 * What a worker has the host hold for it while it waits: the whole request bodies of its fetches (each
 * fetch a copy of its own) and its queued D1 requests. They are this process's memory, outside the
 * isolate's limit: a review had 64 requests each POST one 8 MB buffer twice to an upstream that never
 * read (1.2 GB held for 30 s, the isolates under 60 MB), and 64 requests queue 8 MB of D1 parameters
 * behind a slow query (0.6 GB). Each worker may have HOST_HELD_BYTES of them at once per executor;
 * past that the call is refused, as the isolate would refuse an allocation past its limit.
 */

export const HOST_HELD_BYTES = 64 * 1024 * 1024;

export class HostHeldBytes {
  readonly #limit: number;
  readonly #byWorker = new Map<string, number>();

  constructor(limit = HOST_HELD_BYTES) {
    this.#limit = limit;
  }

  /**
   * Holds `bytes` for `worker`; false, and nothing held, when that would take it past its share. What
   * the worker holds alone may be bigger (its memory limit bounds one body).
   */
  hold(worker: string, bytes: number): boolean {
    const held = this.#byWorker.get(worker) ?? 0;
    if (bytes > 0 && held > 0 && held + bytes > this.#limit) return false;
    if (bytes > 0) this.#byWorker.set(worker, held + bytes);
    return true;
  }

  release(worker: string, bytes: number): void {
    const left = (this.#byWorker.get(worker) ?? 0) - bytes;
    if (left > 0) this.#byWorker.set(worker, left);
    else this.#byWorker.delete(worker);
  }

  /** What `worker` holds now. */
  heldBy(worker: string): number {
    return this.#byWorker.get(worker) ?? 0;
  }
}

/**
 * Workers that recently ran into their CPU limit. A serving process runs tenants' code inline, so one
 * slice of a worker holds that thread's event loop (up to the worker's CPU limit); a worker that keeps
 * doing it would starve everyone else on the thread. Such a worker's requests go to an executor on a
 * thread of its own until it has behaved for `coolDownMs`.
 */
export class HeavyWorkers {
  readonly #until = new Map<string, number>();
  readonly #coolDownMs: number;
  readonly #now: () => number;

  constructor(coolDownMs: number, now: () => number = Date.now) {
    this.#coolDownMs = coolDownMs;
    this.#now = now;
  }

  mark(worker: string): void {
    this.#until.set(worker, this.#now() + this.#coolDownMs);
  }

  has(worker: string): boolean {
    const until = this.#until.get(worker);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(worker);
    return false;
  }
}

import type { Limits } from '../types.ts';

/**
 * The most CPU per invocation a worker may be allowed and still run on a serving thread. One with a
 * higher limit (up to MAX_LIMITS.cpuMs, 5 minutes) runs on the offload thread from the start: a slice
 * cannot move threads once it runs, so on the serving thread a single invocation within its limit could
 * hold every other tenant's requests there for that long.
 */
export const MAX_SERVING_THREAD_CPU_MS = 200;

/** Whether a worker with these limits runs on the offload thread from the start. */
export function heavyByLimits(limits: Limits): boolean {
  return limits.cpuMs > MAX_SERVING_THREAD_CPU_MS;
}

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

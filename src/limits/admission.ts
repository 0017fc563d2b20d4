/**
 * Per-worker concurrency: at most `limit` invocations of a worker run at once; more wait in a short FIFO
 * queue, and past its length or wait bound they are shed (503, outcome loadShed).
 */
export interface AdmissionOptions {
  /** Waiting requests per worker, as a multiple of its concurrency limit. */
  queueFactor: number;
  /** Longest time a request waits for a slot. */
  maxWaitMs: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  shed: () => void;
  timer: NodeJS.Timeout;
}

interface Gate {
  running: number;
  queue: Waiter[];
}

export class Admission {
  readonly #gates = new Map<string, Gate>();
  readonly #options: AdmissionOptions;

  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  /**
   * Calls `grant(release)` when the invocation may run (at once when a slot is free), or `shed()` when it
   * must not. `release` must be called exactly once when the invocation ends.
   */
  enter(worker: string, limit: number, grant: (release: () => void) => void, shed: () => void): void {
    let gate = this.#gates.get(worker);
    if (!gate) this.#gates.set(worker, (gate = { running: 0, queue: [] }));
    if (gate.running < limit) {
      gate.running++;
      grant(this.#releaser(worker, gate, limit));
      return;
    }
    if (gate.queue.length >= limit * this.#options.queueFactor) {
      shed();
      return;
    }
    const waiter: Waiter = {
      grant,
      shed,
      timer: setTimeout(() => {
        const index = gate.queue.indexOf(waiter);
        if (index !== -1) gate.queue.splice(index, 1);
        shed();
      }, this.#options.maxWaitMs),
    };
    gate.queue.push(waiter);
  }

  running(worker: string): number {
    return this.#gates.get(worker)?.running ?? 0;
  }

  #releaser(worker: string, gate: Gate, limit: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.queue.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(this.#releaser(worker, gate, limit));
        return;
      }
      gate.running--;
      if (gate.running === 0) this.#gates.delete(worker);
    };
  }
}

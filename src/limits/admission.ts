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

/**
 * A worker's count and queue. Once made it stays (a few dozen bytes per worker that has run in this
 * process): made and dropped with each request, as before, it cost ~340 bytes of garbage a request (the
 * gate, its queue, a Map entry set and deleted), the serving thread's largest allocation of ours.
 */
interface Gate {
  running: number;
  /** Made when the first invocation has to wait. */
  queue: Waiter[] | null;
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
    if (!gate) this.#gates.set(worker, (gate = { running: 0, queue: null }));
    if (gate.running < limit) {
      gate.running++;
      grant(this.#releaser(gate));
      return;
    }
    const queue = (gate.queue ??= []);
    if (queue.length >= limit * this.#options.queueFactor) {
      shed();
      return;
    }
    const waiter: Waiter = {
      grant,
      shed,
      timer: setTimeout(() => {
        const index = queue.indexOf(waiter);
        if (index !== -1) queue.splice(index, 1);
        shed();
      }, this.#options.maxWaitMs),
    };
    queue.push(waiter);
  }

  running(worker: string): number {
    return this.#gates.get(worker)?.running ?? 0;
  }

  #releaser(gate: Gate): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.queue?.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(this.#releaser(gate));
        return;
      }
      gate.running--;
    };
  }
}

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

/** What waits for a slot: one object (the data plane's request), not a pair of closures made per request. */
export interface Entrant {
  /** It may run; `release` must be called exactly once when it ends. */
  admitted(release: () => void): void;
  /** It must not run. */
  shed(): void;
}

interface Waiter {
  entrant: Entrant;
  timer: NodeJS.Timeout;
}

/**
 * A worker's count and queue. Once made it stays until the worker is deleted (a few dozen bytes per
 * worker that has run in this process): made and dropped with each request, as before, it cost ~340
 * bytes of garbage a request (the gate, its queue, a Map entry set and deleted), the serving thread's
 * largest allocation of ours.
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

  /** Calls `entrant.admitted(release)` when it may run (at once when a slot is free), or `entrant.shed()`. */
  enter(worker: string, limit: number, entrant: Entrant): void {
    let gate = this.#gates.get(worker);
    if (!gate) this.#gates.set(worker, (gate = { running: 0, queue: null }));
    if (gate.running < limit) {
      gate.running++;
      entrant.admitted(this.#releaser(gate));
      return;
    }
    const queue = (gate.queue ??= []);
    if (queue.length >= limit * this.#options.queueFactor) {
      entrant.shed();
      return;
    }
    const waiter: Waiter = {
      entrant,
      timer: setTimeout(() => {
        const index = queue.indexOf(waiter);
        if (index !== -1) queue.splice(index, 1);
        entrant.shed();
      }, this.#options.maxWaitMs),
    };
    queue.push(waiter);
  }

  running(worker: string): number {
    return this.#gates.get(worker)?.running ?? 0;
  }

  /**
   * The worker is deleted. What it has running or waiting keeps its own gate to the end (each release
   * holds the gate, not the name); a new worker of the same name starts with a gate of its own.
   */
  forget(worker: string): void {
    this.#gates.delete(worker);
  }

  /** Workers with a gate: those that have run since they were deployed. */
  get workers(): number {
    return this.#gates.size;
  }

  #releaser(gate: Gate): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = gate.queue?.shift();
      if (next) {
        clearTimeout(next.timer);
        next.entrant.admitted(this.#releaser(gate));
        return;
      }
      gate.running--;
    };
  }
}

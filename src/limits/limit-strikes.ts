/**
 * Workers that keep running into their limits. Each invocation ended by exceededCpu costs the process
 * the worker's whole CPU limit, each ended by exceededMemory a heap grown to the limit and a dead
 * isolate, and each cold start that fails (top-level code that throws, though it built at deploy) an
 * isolate built and its top-level code run, up to the startup limit; a worker doing it request after
 * request takes the cores from every other tenant. After
 * STRIKES such endings within WINDOW_MS, its requests are refused (503 + Retry-After) without running
 * for a penalty that doubles each time it comes back to the same behaviour (up to MAX_PENALTY_MS), and
 * is forgotten after a quiet penalty-length.
 */
const STRIKES = 2;
const WINDOW_MS = 1000;
const FIRST_PENALTY_MS = 1000;
const MAX_PENALTY_MS = 30_000;

interface Record {
  strikes: number;
  windowStart: number;
  blockedUntil: number;
  penaltyMs: number;
}

export class LimitStrikes {
  readonly #workers = new Map<string, Record>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** An invocation of `worker` ended by one of its limits. */
  strike(worker: string): void {
    const now = this.#now();
    let record = this.#workers.get(worker);
    if (!record) this.#workers.set(worker, (record = { strikes: 0, windowStart: now, blockedUntil: 0, penaltyMs: 0 }));
    if (now - record.windowStart > WINDOW_MS) {
      // A quiet spell as long as the last penalty: start over.
      if (now - Math.max(record.windowStart, record.blockedUntil) > record.penaltyMs) record.penaltyMs = 0;
      record.strikes = 0;
      record.windowStart = now;
    }
    if (++record.strikes < STRIKES || record.blockedUntil > now) return;
    record.penaltyMs = record.penaltyMs === 0 ? FIRST_PENALTY_MS : Math.min(MAX_PENALTY_MS, record.penaltyMs * 2);
    record.blockedUntil = now + record.penaltyMs;
  }

  /** Milliseconds `worker`'s requests are still refused for; 0 when they run. */
  blockedFor(worker: string): number {
    const record = this.#workers.get(worker);
    if (!record) return 0;
    const left = record.blockedUntil - this.#now();
    if (left > 0) return left;
    if (this.#now() - Math.max(record.windowStart, record.blockedUntil) > Math.max(WINDOW_MS, record.penaltyMs)) this.#workers.delete(worker);
    return 0;
  }
}

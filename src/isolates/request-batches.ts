/**
 * Requests for the same isolate that arrive in one turn of the event loop enter it once
 * (dispatch('requests'), runtime/batch.ts), not once each: those without a body, and those whose body
 * was read whole and is UTF-8 text (it crosses as a string, host-text.ts). Under load a serving
 * process reads ~10 requests a turn, and entering an isolate and coming back (isolated-vm's locking,
 * the switch between two V8 heaps, the CPU clock and the watchdog) was most of what a small request cost.
 *
 * The requests of a batch run one after another inside the entry: the next starts once the one before
 * is over (host 'done'). At each of those boundaries the executor reads the thread's CPU clock, so every
 * invocation is charged its own CPU, gets its own CPU limit (the watchdog restarts), and owns the timers,
 * fetches and logs it makes, exactly as when it runs alone.
 */
import type { Invocation } from './invocation.ts';

export interface QueuedRequest {
  invocation: Invocation;
  method: string;
  url: string;
  /** HeaderLines (runtime/host.d.ts). */
  headers: string;
  /** The whole body as text, or none. */
  body: string | null;
}

/** Requests in one entry; larger turns make several. */
const MAX_BATCH = 64;
/**
 * Body characters in one entry (up to 2 bytes each in the isolate's heap): a batch holds every body it
 * carries until it ends, so past this the next request starts another entry.
 */
const MAX_BATCH_BODY_CHARS = 256 * 1024;

interface Queue {
  requests: QueuedRequest[];
  bodyChars: number;
}

/** Requests waiting for the end of this turn's I/O, by isolate. */
export class RequestQueues<Isolate> {
  readonly #queues = new Map<Isolate, Queue>();
  readonly #run: (isolate: Isolate, requests: QueuedRequest[]) => void;
  #scheduled = false;

  constructor(run: (isolate: Isolate, requests: QueuedRequest[]) => void) {
    this.#run = run;
  }

  add(isolate: Isolate, request: QueuedRequest): void {
    const chars = request.body === null ? 0 : request.body.length;
    let queue = this.#queues.get(isolate);
    if (queue && (queue.requests.length === MAX_BATCH || queue.bodyChars + chars > MAX_BATCH_BODY_CHARS)) {
      this.#run(isolate, queue.requests);
      queue = undefined;
    }
    if (!queue) this.#queues.set(isolate, (queue = { requests: [], bodyChars: 0 }));
    queue.requests.push(request);
    queue.bodyChars += chars;
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the poll phase: every request the turn read is queued by then.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    for (const [isolate, queue] of this.#queues) {
      this.#queues.delete(isolate);
      this.#run(isolate, queue.requests);
    }
  }
}

/** A batch inside its entry: which request runs now, and since when (thread CPU µs). */
export class RunningBatch {
  readonly requests: QueuedRequest[];
  #index = 0;
  #sinceUs: number;

  constructor(requests: QueuedRequest[], startUs: number) {
    this.requests = requests;
    this.#sinceUs = startUs;
  }

  /**
   * Invocation `id` is over at `nowUs`: it is charged its CPU and, if `goOn`, the next one starts.
   * Returns the next invocation, null after the last or when stopping, undefined when `id` is not the
   * one running (nothing changes).
   */
  advance(id: number, nowUs: number, goOn: boolean): Invocation | null | undefined {
    const running = this.requests[this.#index];
    if (running === undefined || running.invocation.id !== id) return undefined;
    running.invocation.cpuUs += nowUs - this.#sinceUs;
    this.#sinceUs = nowUs;
    // Stopping, it stays the last one run: the rest are not started.
    if (!goOn) return null;
    this.#index++;
    return this.requests[this.#index]?.invocation ?? null;
  }

  /** At the end of the entry: the CPU since the last boundary goes to the request running, or the last one run. */
  finish(endUs: number): Invocation {
    const last = this.requests[Math.min(this.#index, this.requests.length - 1)]!.invocation;
    last.cpuUs += endUs - this.#sinceUs;
    return last;
  }

  /** Requests the entry never started (one before them was still waiting on something). */
  notStarted(): QueuedRequest[] {
    return this.requests.slice(this.#index + 1);
  }
}

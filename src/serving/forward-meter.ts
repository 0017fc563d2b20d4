/** A MeterSink for serving processes: batches records and console lines and sends them to the primary once per turn. */
import type { MeterSink } from '../metering/meter.ts';
import { isoNow, RecordBatcher } from '../metering/record.ts';
import type { InvocationRecord } from '../types.ts';
import type { ConsoleLine, Metering } from './protocol.ts';

const FLUSH_MS = 10;
/**
 * Console text sent to the primary and not yet written to the channel. Past it, console lines are
 * dropped (counted per worker, and said so once the channel drains); invocation records never are. A
 * worker logging within its per-invocation caps on a few connections outran the primary, and the
 * channel's queue took a serving process from 116 MB to 3.4 GB in 12 s.
 */
const MAX_UNSENT_CONSOLE_CHARS = 8 * 1024 * 1024;

/**
 * Console text one worker may send through this process: a burst, then a rate. The primary spends ~10x
 * the CPU a tenant is charged to log a line (a flood of 57 ms of tenant CPU cost it ~550 ms), so past
 * these a worker's lines are dropped and counted, as past the channel's bound.
 */
const CONSOLE_BURST_CHARS = 4 * 1024 * 1024;
const CONSOLE_CHARS_PER_SECOND = 1024 * 1024;

/** A worker's allowance of console text: refilled at CONSOLE_CHARS_PER_SECOND up to the burst. */
interface Allowance {
  chars: number;
  at: number;
}

/** Sends `message`; `sent` runs once it is written to the channel. */
type Post = (message: Metering, sent?: () => void) => void;

export class ForwardMeter implements MeterSink {
  readonly #post: Post;
  readonly #maxUnsentChars: number;
  readonly #records = new RecordBatcher();
  #lines: ConsoleLine[] = [];
  #lineChars = 0;
  /** Console characters posted and not yet written to the channel. */
  #unsentChars = 0;
  /** Lines dropped per worker since the channel last had room. */
  readonly #dropped = new Map<string, number>();
  /** Lines dropped per worker past its rate, since last said. */
  readonly #overRate = new Map<string, number>();
  readonly #allowances = new Map<string, Allowance>();
  readonly #now: () => number;
  #overRateSaidAt = -Infinity;
  #scheduled = false;

  constructor(post: Post, maxUnsentChars = MAX_UNSENT_CONSOLE_CHARS, now: () => number = performance.now.bind(performance)) {
    this.#post = post;
    this.#maxUnsentChars = maxUnsentChars;
    this.#now = now;
  }

  invocation(record: InvocationRecord): void {
    this.#records.add(record);
    this.#schedule();
  }

  console(worker: string, requestId: string | null, level: string, message: string, time = isoNow()): void {
    if (this.#unsentChars + this.#lineChars > this.#maxUnsentChars) {
      this.#dropped.set(worker, (this.#dropped.get(worker) ?? 0) + 1);
      return;
    }
    if (!this.#allow(worker, message.length)) {
      this.#overRate.set(worker, (this.#overRate.get(worker) ?? 0) + 1);
      this.#schedule();
      return;
    }
    this.#lines.push({ worker, requestId, level, message, time });
    this.#lineChars += message.length;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // One message per FLUSH_MS, not per turn of the event loop: under load a turn handles a few requests
    // only, and each IPC message costs a serialisation and a write.
    setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Takes `chars` from the worker's allowance; false when it has not that much left. */
  #allow(worker: string, chars: number): boolean {
    const now = this.#now();
    let allowance = this.#allowances.get(worker);
    if (!allowance) this.#allowances.set(worker, (allowance = { chars: CONSOLE_BURST_CHARS, at: now }));
    allowance.chars = Math.min(CONSOLE_BURST_CHARS, allowance.chars + ((now - allowance.at) / 1000) * CONSOLE_CHARS_PER_SECOND);
    allowance.at = now;
    if (allowance.chars < chars) return false;
    allowance.chars -= chars;
    return true;
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#dropped.size > 0 && this.#unsentChars + this.#lineChars <= this.#maxUnsentChars / 2) this.#reportDropped();
    const now = this.#now();
    // Said at most once a second (the saying is a line too), and allowances full again forgotten then.
    if (now - this.#overRateSaidAt >= 1000) {
      this.#overRateSaidAt = now;
      for (const [worker, count] of this.#overRate) {
        this.#lines.push({ worker, requestId: null, level: 'warn', message: `${count} console lines dropped: the worker logged more than ${CONSOLE_CHARS_PER_SECOND / (1024 * 1024)} MiB a second`, time: isoNow() });
      }
      this.#overRate.clear();
      for (const [worker, allowance] of this.#allowances) {
        if (allowance.chars + ((now - allowance.at) / 1000) * CONSOLE_CHARS_PER_SECOND >= CONSOLE_BURST_CHARS) this.#allowances.delete(worker);
      }
    }
    if (this.#overRate.size > 0) this.#schedule();
    if (this.#records.size === 0 && this.#lines.length === 0) return;
    const chars = this.#lineChars;
    this.#unsentChars += chars;
    this.#post({ t: 'metering', records: this.#records.take(), lines: this.#lines }, () => {
      this.#unsentChars -= chars;
      // Dropped lines are said once there is room again, even if nothing else comes.
      if (this.#dropped.size > 0) this.#schedule();
    });
    this.#lines = [];
    this.#lineChars = 0;
  }

  /** One line per worker whose lines were dropped, in its own log. */
  #reportDropped(): void {
    for (const [worker, count] of this.#dropped) {
      this.#lines.push({ worker, requestId: null, level: 'warn', message: `${count} console lines dropped: the server's log could not keep up`, time: isoNow() });
    }
    this.#dropped.clear();
  }
}

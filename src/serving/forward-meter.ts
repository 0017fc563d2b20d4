/** A MeterSink for serving processes: batches records and console lines and sends them to the primary once per turn. */
import type { MeterSink } from '../metering/meter.ts';
import { isoNow, RecordBatcher } from '../metering/record.ts';
import type { InvocationRecord } from '../types.ts';
import type { ConsoleLine, Metering } from './protocol.ts';

const FLUSH_MS = 10;

export class ForwardMeter implements MeterSink {
  readonly #post: (message: Metering) => void;
  readonly #records = new RecordBatcher();
  #lines: ConsoleLine[] = [];
  #scheduled = false;

  constructor(post: (message: Metering) => void) {
    this.#post = post;
  }

  invocation(record: InvocationRecord): void {
    this.#records.add(record);
    this.#schedule();
  }

  console(worker: string, requestId: string | null, level: string, message: string, time = isoNow()): void {
    this.#lines.push({ worker, requestId, level, message, time });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // One message per FLUSH_MS, not per turn of the event loop: under load a turn handles a few requests
    // only, and each IPC message costs a serialisation and a write.
    setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#records.size === 0 && this.#lines.length === 0) return;
    this.#post({ t: 'metering', records: this.#records.take(), lines: this.#lines });
    this.#lines = [];
  }
}

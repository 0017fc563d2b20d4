/**
 * Structured logs: one JSON object per line (callers put a time or startedAt field in it). Lines are batched and written once per tick, so logging
 * every invocation does not cost a write syscall per request.
 */
import type { Writable } from 'node:stream';

export type LogFields = Record<string, unknown> & { type: string };

export class Logger {
  readonly #out: Writable | null;
  #buffer: string[] = [];
  #scheduled = false;

  /** `out` null discards everything (tests, benchmarks that measure without a log sink). */
  constructor(out: Writable | null) {
    this.#out = out;
  }

  write(fields: LogFields): void {
    if (!this.#out) return;
    this.#buffer.push(JSON.stringify(fields));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.#scheduled = false;
    if (!this.#out || this.#buffer.length === 0) return;
    const lines = this.#buffer.join('\n') + '\n';
    this.#buffer = [];
    this.#out.write(lines);
  }
}

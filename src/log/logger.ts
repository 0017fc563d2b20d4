/**
 * Structured logs: one JSON object per line (callers put a time or startedAt field in it). Lines are
 * batched and written once per tick, so logging every invocation does not cost a write syscall per request.
 *
 * A log reader slower than the server (a pipe nobody drains fast enough) must not make the server hold
 * every line in memory: past MAX_PENDING_BYTES not yet taken by `out`, lines are dropped and counted, and a
 * `{"type":"log-dropped","lines":N}` line says so once `out` drains.
 */
import type { Writable } from 'node:stream';

/** Any object with a `type`: an invocation record, a console line, an event. */
export interface LogFields {
  readonly type: string;
}

const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export class Logger {
  readonly #out: Writable | null;
  readonly #maxPendingBytes: number;
  #buffer: string[] = [];
  #scheduled = false;
  #dropped = 0;

  /** `out` null discards everything (tests, benchmarks that measure without a log sink). */
  constructor(out: Writable | null, maxPendingBytes = MAX_PENDING_BYTES) {
    this.#out = out;
    this.#maxPendingBytes = maxPendingBytes;
  }

  write<Fields extends LogFields>(fields: Fields): void {
    if (!this.#out) return;
    this.#buffer.push(oneLine(JSON.stringify(fields)));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.#scheduled = false;
    const out = this.#out;
    if (!out || this.#buffer.length === 0) return;
    if (out.writableLength > this.#maxPendingBytes) {
      if (this.#dropped === 0) out.once('drain', () => this.#reportDropped());
      this.#dropped += this.#buffer.length;
      this.#buffer = [];
      return;
    }
    const lines = this.#buffer.join('\n') + '\n';
    this.#buffer = [];
    out.write(lines);
  }

  #reportDropped(): void {
    const lines = this.#dropped;
    this.#dropped = 0;
    this.write({ type: 'log-dropped', time: new Date().toISOString(), lines, note: 'the log reader was too slow: these lines were not written' });
  }
}

/**
 * JSON.stringify leaves U+2028 and U+2029 as they are: valid JSON, but line breaks to readers that split
 * on them (Node's readline does), so a tenant's console.log('a\u2028b') split its line in three.
 */
function oneLine(json: string): string {
  return LINE_SEPARATORS.test(json) ? json.replace(LINE_SEPARATORS_GLOBAL, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029')) : json;
}
const LINE_SEPARATORS = /[\u2028\u2029]/;
const LINE_SEPARATORS_GLOBAL = /[\u2028\u2029]/g;

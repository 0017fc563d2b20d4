/**
 * Each worker's own log stream, as Lambda keeps one per function: its console lines and the REPORT line
 * of every invocation, newest last. Bounded per worker and in the number of workers kept.
 */
import { LRUCache } from 'lru-cache';
import type { InvocationRecord } from '../types.ts';
import { reportLine } from './record.ts';

const LINES_PER_WORKER = 500;
const WORKERS_KEPT = 2000;

export interface WorkerLogLine {
  time: string;
  requestId: string | null;
  level: string;
  message: string;
}

/** A console line as it came, or an invocation record whose REPORT line is formatted only when read. */
type Entry = WorkerLogLine | InvocationRecord;

export class WorkerLogs {
  readonly #streams = new LRUCache<string, Entry[]>({ max: WORKERS_KEPT });

  append(worker: string, line: Entry): void {
    let lines = this.#streams.get(worker);
    if (!lines) this.#streams.set(worker, (lines = []));
    lines.push(line);
    if (lines.length > LINES_PER_WORKER) lines.splice(0, lines.length - LINES_PER_WORKER);
  }

  read(worker: string, limit = LINES_PER_WORKER): WorkerLogLine[] {
    const lines = this.#streams.get(worker) ?? [];
    return lines.slice(-limit).map((entry) =>
      'outcome' in entry ? { time: entry.startedAt, requestId: entry.requestId, level: 'report', message: reportLine(entry) } : entry,
    );
  }

  forget(worker: string): void {
    this.#streams.delete(worker);
  }
}

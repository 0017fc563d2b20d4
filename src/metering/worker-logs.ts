/**
 * Each worker's own log stream, as Lambda keeps one per function: its console lines and the REPORT line
 * of every invocation, newest last. A fixed ring per worker, and a bounded number of workers kept.
 * Followers (live tails: src/admin/tail.ts) get every entry as it is appended.
 */
import { LRUCache } from 'lru-cache';
import type { InvocationRecord } from '../types.ts';
import { reportLine } from './record.ts';

const LINES_PER_WORKER = 500;
const WORKERS_KEPT = 2000;
/**
 * Entries kept over all workers (an entry is a few hundred bytes): 2,000 full rings would hold ~400 MB,
 * so past this the least recently written workers' logs go first.
 */
const ENTRIES_KEPT = 200_000;

export interface WorkerLogLine {
  time: string;
  requestId: string | null;
  level: string;
  message: string;
}

/** A console line as it came, or an invocation record whose REPORT line is formatted only when read. */
export type WorkerLogEntry = WorkerLogLine | InvocationRecord;
type Entry = WorkerLogEntry;

/** A follower of a worker's stream; `ended` when the worker is deleted. */
export interface LogFollower {
  entry(entry: WorkerLogEntry): void;
  ended(): void;
}

class Ring {
  readonly entries: Entry[] = [];
  next = 0;

  push(entry: Entry): void {
    if (this.entries.length < LINES_PER_WORKER) this.entries.push(entry);
    else this.entries[this.next] = entry;
    this.next = (this.next + 1) % LINES_PER_WORKER;
  }

  /** Oldest first. */
  ordered(): Entry[] {
    return this.entries.length < LINES_PER_WORKER ? this.entries : [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }
}

export class WorkerLogs {
  #entries = 0;
  readonly #streams = new LRUCache<string, Ring>({ max: WORKERS_KEPT, dispose: (ring) => (this.#entries -= ring.entries.length) });
  readonly #followers = new Map<string, Set<LogFollower>>();

  append(worker: string, entry: Entry): void {
    const followers = this.#followers.get(worker);
    if (followers) for (const follower of followers) follower.entry(entry);
    let ring = this.#streams.get(worker);
    if (!ring) this.#streams.set(worker, (ring = new Ring()));
    const before = ring.entries.length;
    ring.push(entry);
    this.#entries += ring.entries.length - before;
    while (this.#entries > ENTRIES_KEPT && this.#streams.size > 1) this.#streams.pop();
  }

  read(worker: string, limit = LINES_PER_WORKER): WorkerLogLine[] {
    const entries = this.#streams.get(worker)?.ordered() ?? [];
    return entries
      .slice(-limit)
      .map((entry) => ('outcome' in entry ? { time: endedAt(entry), requestId: entry.requestId, level: 'report', message: reportLine(entry) } : entry));
  }

  /** `follower` gets `worker`'s entries from now on, until the returned function is called. */
  follow(worker: string, follower: LogFollower): () => void {
    let followers = this.#followers.get(worker);
    if (!followers) this.#followers.set(worker, (followers = new Set()));
    followers.add(follower);
    return () => {
      followers.delete(follower);
      if (followers.size === 0 && this.#followers.get(worker) === followers) this.#followers.delete(worker);
    };
  }

  /** How many followers `worker` has (all workers': without an argument). */
  followerCount(worker?: string): number {
    if (worker !== undefined) return this.#followers.get(worker)?.size ?? 0;
    let count = 0;
    for (const followers of this.#followers.values()) count += followers.size;
    return count;
  }

  forget(worker: string): void {
    this.#streams.delete(worker);
    const followers = this.#followers.get(worker);
    this.#followers.delete(worker);
    if (followers) for (const follower of followers) follower.ended();
  }
}

/**
 * When the invocation ended: its REPORT line's time, as Lambda's comes last. With its start, a reader
 * sorting by time put it before the invocation's own console lines.
 */
function endedAt(record: InvocationRecord): string {
  const started = Date.parse(record.startedAt);
  return Number.isNaN(started) ? record.startedAt : new Date(started + record.wallMs).toISOString();
}

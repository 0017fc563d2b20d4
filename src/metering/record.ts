/** Building the per-invocation record, its AWS Lambda-style REPORT line and its form between processes. */
import { OUTCOMES, type InvocationRecord, type Outcome, type Version } from '../types.ts';

/** What the executor reports at an invocation's end (isolates/protocol.ts EndMessage), as a record needs it. */
export interface EndFigures {
  cold: boolean;
  initMs: number | null;
  cpuUs: number;
  memoryBytes: number;
}

/** What the caller measured of an invocation besides the executor's figures. */
export interface InvocationFacts {
  requestId: string;
  version: Version;
  outcome: Outcome;
  status: number;
  /** performance.now() at arrival. */
  arrived: number;
  startedAt: string;
  bytesIn: number;
  bytesOut: number;
  /** A cron trigger's event: its expression. */
  cron?: string;
}

/** The invocation record, from the request's (or event's) facts and the executor's figures. */
export function invocationRecord(facts: InvocationFacts, end: EndFigures): InvocationRecord {
  const { version } = facts;
  const record: InvocationRecord = {
    requestId: facts.requestId,
    worker: version.worker,
    version: version.id,
    outcome: facts.outcome,
    status: facts.status,
    cold: end.cold,
    initMs: end.initMs === null ? null : round2(end.initMs),
    wallMs: round2(performance.now() - facts.arrived),
    cpuUs: Math.round(end.cpuUs),
    billedMs: billedMs(end.cpuUs),
    memoryLimitMb: version.limits.memoryMb,
    peakMemoryBytes: end.memoryBytes,
    bytesIn: facts.bytesIn,
    bytesOut: facts.bytesOut,
    startedAt: facts.startedAt,
  };
  if (facts.cron !== undefined) record.cron = facts.cron;
  return record;
}

/**
 * CPU billed in whole milliseconds, rounded up; an invocation costs at least 1 ms. From the whole
 * microseconds the record shows (1000.3 µs is recorded as 1000 and billed 1 ms, not 2).
 */
export function billedMs(cpuUs: number): number {
  return Math.max(1, Math.ceil(Math.round(cpuUs) / 1000));
}

/** Milliseconds as records show them: two decimals. */
export function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

const MB = 1024 * 1024;

let lastMs = 0;
let lastIso = '';

/** The time as an ISO 8601 string, formatted once per millisecond (records are made thousands a second). */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** `REPORT RequestId: … Duration: … Billed Duration: … Memory Size: … Max Memory Used: …` as Lambda writes it. */
export function reportLine(record: InvocationRecord): string {
  let line =
    `REPORT RequestId: ${record.requestId}\tDuration: ${record.wallMs.toFixed(2)} ms\tBilled Duration: ${record.billedMs} ms\t` +
    `CPU Time: ${(record.cpuUs / 1000).toFixed(3)} ms\tMemory Size: ${record.memoryLimitMb} MB\tMax Memory Used: ${Math.ceil(record.peakMemoryBytes / MB)} MB\t`;
  if (record.initMs !== null) line += `Init Duration: ${record.initMs.toFixed(2)} ms\t`;
  if (record.cron !== undefined) line += `Cron: ${record.cron}\t`;
  return line + `Outcome: ${record.outcome}`;
}

/** An invocation record as its log line has it: `type` first, then the record's fields. */
export type InvocationLine = { type: 'invocation' } & InvocationRecord;

/**
 * Records as they cross from a serving process to the primary, a batch at a time, by columns: V8's
 * serialiser copies a typed array whole, where it writes every element of an array (and every property
 * name of an object) with a tag. Worker names and version ids are listed once per batch. Serialised and
 * read back, a batch costs ~0.3 µs a record, an array per record ~1.3 µs (.scratch/meter-cols.mjs).
 */
export interface RecordBatch {
  /** Per record: requestId and startedAt. */
  requestIds: string[];
  startedAts: string[];
  /** The batch's distinct worker names and version ids, which `numbers` points into. */
  names: string[];
  /** NUMBERS_PER_RECORD per record, at the offsets `Column` gives. */
  numbers: Float64Array;
  /** [record index, expression] for the records of cron triggers' events. */
  crons: [number, string][];
}

/** Where each figure of a record is in its NUMBERS_PER_RECORD slots of `numbers`. */
const Column = {
  worker: 0,
  version: 1,
  outcome: 2,
  status: 3,
  cold: 4,
  /** NaN for null. */
  initMs: 5,
  wallMs: 6,
  cpuUs: 7,
  billedMs: 8,
  memoryLimitMb: 9,
  peakMemoryBytes: 10,
  bytesIn: 11,
  bytesOut: 12,
} as const;
const NUMBERS_PER_RECORD = 13;

/** Collects records into a RecordBatch (serving processes). */
export class RecordBatcher {
  #requestIds: string[] = [];
  #startedAts: string[] = [];
  #names: string[] = [];
  #nameIndex = new Map<string, number>();
  #numbers: number[] = [];
  #crons: [number, string][] = [];

  get size(): number {
    return this.#requestIds.length;
  }

  add(r: InvocationRecord): void {
    if (r.cron !== undefined) this.#crons.push([this.#requestIds.length, r.cron]);
    this.#requestIds.push(r.requestId);
    this.#startedAts.push(r.startedAt);
    // In the order of `Column`.
    this.#numbers.push(
      this.#name(r.worker), this.#name(r.version), OUTCOMES.indexOf(r.outcome), r.status, r.cold ? 1 : 0, r.initMs ?? NaN, r.wallMs,
      r.cpuUs, r.billedMs, r.memoryLimitMb, r.peakMemoryBytes, r.bytesIn, r.bytesOut,
    );
  }

  /** The batch so far; the batcher starts a new one. */
  take(): RecordBatch {
    const batch: RecordBatch = { requestIds: this.#requestIds, startedAts: this.#startedAts, names: this.#names, numbers: Float64Array.from(this.#numbers), crons: this.#crons };
    this.#requestIds = [];
    this.#startedAts = [];
    this.#names = [];
    this.#nameIndex.clear();
    this.#numbers = [];
    this.#crons = [];
    return batch;
  }

  #name(name: string): number {
    let index = this.#nameIndex.get(name);
    if (index === undefined) this.#nameIndex.set(name, (index = this.#names.push(name) - 1));
    return index;
  }
}

/** The batch's records again, as their log lines, in the order they were added (the primary). */
export function batchLines(batch: RecordBatch): InvocationLine[] {
  const { requestIds, startedAts, names, numbers, crons } = batch;
  const lines: InvocationLine[] = [];
  let nextCron = 0;
  for (let i = 0; i < requestIds.length; i++) {
    const n = i * NUMBERS_PER_RECORD;
    const initMs = numbers[n + Column.initMs]!;
    // The properties in the order the data plane makes them, so the log line keeps its key order.
    const line: InvocationLine = {
      type: 'invocation',
      requestId: requestIds[i]!,
      worker: names[numbers[n + Column.worker]!]!,
      version: names[numbers[n + Column.version]!]!,
      outcome: OUTCOMES[numbers[n + Column.outcome]!]!,
      status: numbers[n + Column.status]!,
      cold: numbers[n + Column.cold] === 1,
      initMs: Number.isNaN(initMs) ? null : initMs,
      wallMs: numbers[n + Column.wallMs]!,
      cpuUs: numbers[n + Column.cpuUs]!,
      billedMs: numbers[n + Column.billedMs]!,
      memoryLimitMb: numbers[n + Column.memoryLimitMb]!,
      peakMemoryBytes: numbers[n + Column.peakMemoryBytes]!,
      bytesIn: numbers[n + Column.bytesIn]!,
      bytesOut: numbers[n + Column.bytesOut]!,
      startedAt: startedAts[i]!,
    };
    if (crons[nextCron]?.[0] === i) line.cron = crons[nextCron++]![1];
    lines.push(line);
  }
  return lines;
}

/** Building the per-invocation record, its AWS Lambda-style REPORT line and its form between processes. */
import type { InvocationRecord, Outcome, Version } from '../types.ts';

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

/**
 * A record as it crosses from a serving process to the primary: its fields in a fixed order. The IPC
 * channel's serialiser writes every property name of every object; as an array a record is half the
 * bytes and ~3x quicker to read back (~0.7 against ~2 µs a record, .scratch/meter-alt.ts).
 */
export type RecordTuple = [
  requestId: string,
  worker: string,
  version: string,
  outcome: Outcome,
  status: number,
  cold: boolean,
  initMs: number | null,
  wallMs: number,
  cpuUs: number,
  billedMs: number,
  memoryLimitMb: number,
  peakMemoryBytes: number,
  bytesIn: number,
  bytesOut: number,
  startedAt: string,
  cron: string | null,
];

export function recordToTuple(r: InvocationRecord): RecordTuple {
  return [r.requestId, r.worker, r.version, r.outcome, r.status, r.cold, r.initMs, r.wallMs, r.cpuUs, r.billedMs, r.memoryLimitMb, r.peakMemoryBytes, r.bytesIn, r.bytesOut, r.startedAt, r.cron ?? null];
}

/** An invocation record as its log line has it: `type` first, then the record's fields. */
export type InvocationLine = { type: 'invocation' } & InvocationRecord;

/**
 * The record again, as its log line: the properties in the order the data plane makes them. Made whole
 * here rather than spread into a new object in the primary, which did that for every request.
 */
export function lineFromTuple(t: RecordTuple): InvocationLine {
  const line: InvocationLine = {
    type: 'invocation',
    requestId: t[0],
    worker: t[1],
    version: t[2],
    outcome: t[3],
    status: t[4],
    cold: t[5],
    initMs: t[6],
    wallMs: t[7],
    cpuUs: t[8],
    billedMs: t[9],
    memoryLimitMb: t[10],
    peakMemoryBytes: t[11],
    bytesIn: t[12],
    bytesOut: t[13],
    startedAt: t[14],
  };
  if (t[15] !== null) line.cron = t[15];
  return line;
}

/** Building the per-invocation record and its AWS Lambda-style REPORT line. */
import type { InvocationRecord } from '../types.ts';

/**
 * CPU billed in whole milliseconds, rounded up; an invocation costs at least 1 ms. From the whole
 * microseconds the record shows (1000.3 µs is recorded as 1000 and billed 1 ms, not 2).
 */
export function billedMs(cpuUs: number): number {
  return Math.max(1, Math.ceil(Math.round(cpuUs) / 1000));
}

const MB = 1024 * 1024;

/** `REPORT RequestId: … Duration: … Billed Duration: … Memory Size: … Max Memory Used: …` as Lambda writes it. */
export function reportLine(record: InvocationRecord): string {
  let line =
    `REPORT RequestId: ${record.requestId}\tDuration: ${record.wallMs.toFixed(2)} ms\tBilled Duration: ${record.billedMs} ms\t` +
    `CPU Time: ${(record.cpuUs / 1000).toFixed(3)} ms\tMemory Size: ${record.memoryLimitMb} MB\tMax Memory Used: ${Math.ceil(record.peakMemoryBytes / MB)} MB\t`;
  if (record.initMs !== null) line += `Init Duration: ${record.initMs.toFixed(2)} ms\t`;
  return line + `Outcome: ${record.outcome}`;
}

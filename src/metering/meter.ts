/**
 * Where invocation records and console lines go: the structured log (one JSON line each), the worker's
 * own log stream (console lines and REPORT lines) and the usage figures.
 */
import type { Logger } from '../log/logger.ts';
import type { InvocationRecord } from '../types.ts';
import { isoNow, type InvocationLine } from './record.ts';
import type { UsageLog } from './usage.ts';
import type { WorkerLogs } from './worker-logs.ts';

/** Where the data plane sends what it measures. */
export interface MeterSink {
  invocation(record: InvocationRecord): void;
  console(worker: string, requestId: string | null, level: string, message: string, time?: string): void;
}

/** The primary's: records (as their log lines, from the serving processes) and console lines go out. */
export class Meter {
  readonly #logger: Logger;
  readonly #usage: UsageLog;
  readonly #workerLogs: WorkerLogs;

  constructor(logger: Logger, usage: UsageLog, workerLogs: WorkerLogs) {
    this.#logger = logger;
    this.#usage = usage;
    this.#workerLogs = workerLogs;
  }

  invocation(line: InvocationLine): void {
    this.#usage.record(line);
    this.#logger.write(line);
    this.#workerLogs.append(line.worker, line);
  }

  console(worker: string, requestId: string | null, level: string, message: string, time = isoNow()): void {
    this.#logger.write({ type: 'console', time, worker, requestId, level, message });
    this.#workerLogs.append(worker, { time, requestId, level, message });
  }
}

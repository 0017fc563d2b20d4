/**
 * Where invocation records and console lines go: the structured log (one JSON line each), the worker's
 * own log stream (console lines and REPORT lines) and the usage figures.
 */
import type { Logger } from '../log/logger.ts';
import type { InvocationRecord } from '../types.ts';
import type { UsageLog } from './usage.ts';
import type { WorkerLogs } from './worker-logs.ts';

export class Meter {
  readonly #logger: Logger;
  readonly #usage: UsageLog;
  readonly #workerLogs: WorkerLogs;

  constructor(logger: Logger, usage: UsageLog, workerLogs: WorkerLogs) {
    this.#logger = logger;
    this.#usage = usage;
    this.#workerLogs = workerLogs;
  }

  invocation(record: InvocationRecord): void {
    this.#usage.record(record);
    this.#logger.write({ type: 'invocation', ...record });
    this.#workerLogs.append(record.worker, record);
  }

  console(worker: string, requestId: string | null, level: string, message: string): void {
    const time = new Date().toISOString();
    this.#logger.write({ type: 'console', time, worker, requestId, level, message });
    this.#workerLogs.append(worker, { time, requestId, level, message });
  }
}

/**
 * A cron trigger's event in a serving process: the worker's live version runs its scheduled handler
 * where a request of that worker would run (invocation-routes.ts: the serving thread, or the offload
 * thread for heavy workers), under the same CPU, memory and wall-time limits, and is metered like a
 * request, with the trigger's cron in its record.
 */
import { randomUUID } from 'node:crypto';
import type { Invoker } from '../serving/invocation-routes.ts';
import type { EndMessage } from '../isolates/protocol.ts';
import type { InvocationHandlers } from '../isolates/executor-client.ts';
import type { MeterSink } from '../metering/meter.ts';
import { invocationRecord, isoNow } from '../metering/record.ts';
import type { InvocationRecord, Version } from '../types.ts';
import type { DueTrigger } from './cron-scheduler.ts';

/** Runs the event; resolves with its record once it is over (the record also goes to `meter`). */
export function runScheduledEvent(trigger: DueTrigger, version: Version, invoker: Invoker, meter: MeterSink): Promise<InvocationRecord> {
  return new Promise((resolve) => {
    const requestId = randomUUID();
    const startedAt = isoNow();
    const arrived = performance.now();
    const onEnd = (end: EndMessage): void => {
      const record = invocationRecord(
        { requestId, version, outcome: end.outcome, status: 0, arrived, startedAt, bytesIn: 0, bytesOut: 0, cron: trigger.cron },
        end,
      );
      meter.invocation(record);
      resolve(record);
    };
    // Nothing is answered to a client: the executor reports only the end (and the outcome with it).
    const handlers: InvocationHandlers = { onResponse() {}, onChunk() {}, onBodyEnd() {}, onPullBody() {}, onFailure() {}, onEnd };
    invoker.invoke(
      { version, requestId, deadline: Date.now() + version.limits.wallMs, request: { cron: trigger.cron, scheduledTime: trigger.scheduledTime } },
      handlers,
    );
  });
}

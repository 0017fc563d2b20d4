/**
 * `GET /v1/workers/:name/tail`: a worker's log stream live, as Server-Sent Events (what `wrangler tail`
 * does for Workers). Each console line is an `event: console` and each invocation's record an
 * `event: invocation`, as JSON in `data:`. A client that reads too slowly loses entries rather than grow
 * the primary's memory: past MAX_UNSENT_BYTES waiting, entries are counted, not kept, and an
 * `event: dropped` says how many once it catches up. A comment every HEARTBEAT_MS keeps idle proxies
 * from closing the stream; deleting the worker ends it.
 */
import { IsolaneError } from '../errors.ts';
import type { WorkerLogEntry, WorkerLogs } from '../metering/worker-logs.ts';

export const MAX_TAILS_PER_WORKER = 10;
export const MAX_TAILS = 100;
const MAX_UNSENT_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

function event(name: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

function eventOf(entry: WorkerLogEntry): Uint8Array {
  return 'outcome' in entry ? event('invocation', entry) : event('console', entry);
}

/** The SSE response following `worker`'s log; ISO_ERR_TAIL_LIMIT when too many are open. */
export function tailResponse(logs: WorkerLogs, worker: string): Response {
  if (logs.followerCount(worker) >= MAX_TAILS_PER_WORKER) {
    throw new IsolaneError('ISO_ERR_TAIL_LIMIT', `worker ${worker} already has ${MAX_TAILS_PER_WORKER} live tails open`);
  }
  if (logs.followerCount() >= MAX_TAILS) throw new IsolaneError('ISO_ERR_TAIL_LIMIT', `${MAX_TAILS} live tails are open on this server`);
  let stop = (): void => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let dropped = 0;
        let open = true;
        /** Queues the chunks if all of them fit. */
        const send = (...chunks: Uint8Array[]): boolean => {
          let bytes = 0;
          for (const chunk of chunks) bytes += chunk.byteLength;
          if ((controller.desiredSize ?? 0) < bytes) return false;
          for (const chunk of chunks) controller.enqueue(chunk);
          return true;
        };
        const heartbeat = setInterval(() => send(encoder.encode(': keep-alive\n\n')), HEARTBEAT_MS);
        heartbeat.unref();
        const unfollow = logs.follow(worker, {
          entry(entry) {
            // After a drop, the count goes out only with the next entry that fits behind it.
            const sent = dropped > 0 ? send(event('dropped', { entries: dropped }), eventOf(entry)) : send(eventOf(entry));
            dropped = sent ? 0 : dropped + 1;
          },
          ended() {
            send(event('end', { reason: `worker ${worker} was deleted` }));
            stop();
            controller.close();
          },
        });
        stop = () => {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          unfollow();
        };
        controller.enqueue(encoder.encode(`: tailing ${worker}\n\n`));
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: MAX_UNSENT_BYTES, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
}

/**
 * The data plane's request handler: Host + path → live version → admission → executor → response,
 * and one invocation record per request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IsolaneError } from '../errors.ts';
import type { ExecutorClient } from '../isolates/executor-client.ts';
import type { EndMessage } from '../isolates/protocol.ts';
import type { Admission } from '../limits/admission.ts';
import type { LiveDeployments } from '../live/live-deployments.ts';
import type { MeterSink } from '../metering/meter.ts';
import { billedMs } from '../metering/record.ts';
import type { Outcome, Version } from '../types.ts';
import { OUTCOME_ERRORS, sendError } from './error-response.ts';
import { hasBody, readBody } from './read-body.ts';
import { responseHead } from './response-head.ts';

export interface DataPlaneOptions {
  live: LiveDeployments;
  /** The executor that runs this worker's invocations. */
  executorFor(worker: string): ExecutorClient;
  admission: Admission;
  meter: MeterSink;
  maxRequestBytes: number;
}

export function createDataPlane(options: DataPlaneOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { live, executorFor, admission, meter, maxRequestBytes } = options;

  return function handleRequest(req, res) {
    const arrived = performance.now();
    const startedAt = new Date().toISOString();
    const requestId = randomUUID();
    const host = req.headers.host;
    if (!host) {
      sendError(res, 'ISO_ERR_HTTP_HOST_MISSING', undefined, requestId);
      return;
    }
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const version = live.resolve(host, path);
    if (!version) {
      sendError(res, 'ISO_ERR_ROUTE_NOT_FOUND', `no worker serves host ${JSON.stringify(host)}`, requestId);
      return;
    }

    let bytesIn = 0;
    let bytesOut = 0;
    let status = 0;
    const record = (outcome: Outcome, end: Pick<EndMessage, 'cold' | 'initMs' | 'cpuUs' | 'memoryBytes'>) =>
      meter.invocation({
        requestId,
        worker: version.worker,
        version: version.id,
        outcome,
        status,
        cold: end.cold,
        initMs: end.initMs === null ? null : round2(end.initMs),
        wallMs: round2(performance.now() - arrived),
        cpuUs: Math.round(end.cpuUs),
        billedMs: billedMs(end.cpuUs),
        memoryLimitMb: version.limits.memoryMb,
        peakMemoryBytes: end.memoryBytes,
        bytesIn,
        bytesOut,
        startedAt,
      });
    const notRun = { cold: false, initMs: null, cpuUs: 0, memoryBytes: 0 };
    const deadline = Date.now() + version.limits.wallMs;

    const admit = (body: ArrayBuffer | null) => {
      bytesIn = body?.byteLength ?? 0;
      admission.enter(
        version.worker,
        version.limits.concurrency,
        (release) => run(body, release),
        () => {
          status = sendError(res, 'ISO_ERR_WORKER_OVERLOADED', undefined, requestId, { 'retry-after': '1' });
          record('loadShed', notRun);
        },
      );
    };
    // Most requests have no body: no promise, no extra turn of the event loop.
    if (!hasBody(req)) admit(null);
    else {
      readBody(req, maxRequestBytes).then(admit, (err: unknown) => {
        // The worker never runs: no invocation, nothing metered.
        const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_BODY_INVALID');
        sendError(res, error.code, error.message, requestId, { connection: 'close' });
      });
    }

    function run(body: ArrayBuffer | null, release: () => void) {
      if (res.destroyed) {
        release();
        record('canceled', notRun);
        return;
      }
      let cancel: (() => void) | null = null;
      let ended = false;
      const onClose = () => {
        if (!res.writableFinished && !ended) cancel?.();
      };
      res.on('close', onClose);
      // Callbacks may run before invoke() returns: the executor enters the isolate right away.
      cancel = executorFor(version!.worker).invoke(
        { version: version as Version, requestId, deadline, request: { method: req.method ?? 'GET', url: `http://${host}${target}`, headers: headerList(req.rawHeaders), body } },
        {
          onResponse(message) {
            if (res.destroyed) return;
            status = message.status;
            const payload = message.body === null ? undefined : typeof message.body === 'string' ? message.body : Buffer.from(message.body);
            bytesOut = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
            try {
              res.writeHead(message.status, responseHead(message.headers, message.status, bytesOut));
            } catch {
              // A header the worker set that Node refuses (rare: the runtime validates them).
              status = sendError(res, 'ISO_ERR_WORKER_EXCEPTION', 'the worker returned invalid response headers', requestId);
              return;
            }
            res.end(payload);
          },
          onFailure(outcome) {
            const code = OUTCOME_ERRORS[outcome] ?? 'ISO_ERR_INTERNAL';
            status = sendError(res, code, undefined, requestId);
          },
          onEnd(end) {
            ended = true;
            release();
            res.off('close', onClose);
            record(end.outcome, end);
          },
        },
      );
    }
  };
}

/** Node's raw header list with names lower-cased, as the bridge expects. */
function headerList(raw: string[]): string[] {
  const list = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    list[i] = raw[i]!.toLowerCase();
    list[i + 1] = raw[i + 1]!;
  }
  return list;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

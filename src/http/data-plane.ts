/**
 * The data plane's request handler: Host + path → live version → admission → executor → response,
 * and one invocation record per request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IsolaneError } from '../errors.ts';
import type { ExecutorClient, InvocationControl } from '../isolates/executor-client.ts';
import type { EndMessage } from '../isolates/protocol.ts';
import type { Admission } from '../limits/admission.ts';
import type { LiveDeployments } from '../live/live-deployments.ts';
import type { MeterSink } from '../metering/meter.ts';
import { billedMs, isoNow } from '../metering/record.ts';
import type { Outcome, Version } from '../types.ts';
import { OUTCOME_ERRORS, sendError } from './error-response.ts';
import { bodyTooLarge, declaredLength, hasBody, readBody } from './read-body.ts';
import { StreamedBody } from './streamed-body.ts';
import { responseHead } from './response-head.ts';

/** How long a refusal of a throttled worker's request is held (src/limits/limit-strikes.ts). */
const THROTTLED_ANSWER_DELAY_MS = 250;

/** Bodies of known length up to this size are read whole before the worker runs; larger ones stream. */
const WHOLE_BODY_BYTES = 64 * 1024;

export interface DataPlaneOptions {
  live: LiveDeployments;
  /** The executor that runs this version's invocations. */
  executorFor(version: Version): Pick<ExecutorClient, 'invoke'>;
  admission: Admission;
  /** Milliseconds a worker that keeps hitting its limits is refused for (src/limits/limit-strikes.ts). */
  blockedFor(worker: string): number;
  meter: MeterSink;
  maxRequestBytes: number;
}

export function createDataPlane(options: DataPlaneOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { live, executorFor, admission, blockedFor, meter, maxRequestBytes } = options;

  return function handleRequest(req, res) {
    const arrived = performance.now();
    const startedAt = isoNow();
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
    const blocked = blockedFor(version.worker);
    if (blocked > 0) {
      // Answered late: a client that retries at once sends a few requests a second instead of taking
      // the process's request capacity from the other tenants with refusals.
      setTimeout(() => {
        if (!res.destroyed) status = sendError(res, 'ISO_ERR_WORKER_THROTTLED', undefined, requestId, { 'retry-after': String(Math.ceil(blocked / 1000)) });
        record('loadShed', notRun);
      }, Math.min(blocked, THROTTLED_ANSWER_DELAY_MS));
      return;
    }
    const deadline = Date.now() + version.limits.wallMs;
    const bodyLimit = Math.min(maxRequestBytes, version.limits.requestBytes);

    const admit = (body: ArrayBuffer | null | 'stream') => {
      if (body instanceof ArrayBuffer) bytesIn = body.byteLength;
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
    const refuse = (err: unknown) => {
      // The worker never runs: no invocation, nothing metered.
      const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_BODY_INVALID');
      sendError(res, error.code, error.message, requestId, { connection: 'close' });
    };
    // Most requests have no body: no promise, no extra turn of the event loop. A small body of known
    // length is read whole (one crossing into the isolate); any other is streamed as the worker reads it.
    const declared = hasBody(req) ? declaredLength(req) : 0;
    // Content-Length: 0 is an empty body, not none: the worker's request.body is an empty stream, as on Workers.
    if (declared === 0) admit(req.headers['content-length'] === undefined ? null : new ArrayBuffer(0));
    else if (declared !== null && declared > bodyLimit) refuse(bodyTooLarge(bodyLimit));
    else if (declared !== null && declared <= WHOLE_BODY_BYTES) readBody(req, bodyLimit).then(admit, refuse);
    else admit('stream');

    function run(body: ArrayBuffer | null | 'stream', release: () => void) {
      if (res.destroyed) {
        release();
        record('canceled', notRun);
        return;
      }
      let control: InvocationControl | null = null;
      let ended = false;
      const onClose = () => {
        if (!res.writableFinished && !ended) control?.cancel(res.headersSent ? 'responseStreamDisconnected' : 'canceled');
      };
      res.on('close', onClose);
      const streamed =
        body === 'stream'
          ? new StreamedBody(req, bodyLimit, {
              chunk: (bytes) => control?.sendBody(bytes),
              tooLarge(limit) {
                control?.bodyError(`the request body is larger than ${limit} bytes`);
                status = sendError(res, 'ISO_ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`, requestId, { connection: 'close' });
                control?.cancel('requestTooLarge');
              },
              failed: (message) => control?.bodyError(message),
            })
          : null;
      // Callbacks may run before invoke() returns: the executor enters the isolate right away.
      control = executorFor(version!).invoke(
        { version: version as Version, requestId, deadline, request: { method: req.method ?? 'GET', url: `http://${host}${target}`, headers: headerLines(req.rawHeaders), body } },
        {
          onResponse(message) {
            if (res.destroyed) return;
            status = message.status;
            if (message.streamed) {
              if (!writeHead(message.status, responseHead(message.headers, message.status, null))) return;
              // The client sees the status at once (server-sent events), not with the first chunk.
              res.flushHeaders();
              return;
            }
            const payload = message.body === null ? undefined : typeof message.body === 'string' ? message.body : Buffer.from(message.body);
            bytesOut = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
            // HEAD: the length of the body a GET would get, and no body (writing one makes Node close the connection).
            if (writeHead(message.status, responseHead(message.headers, message.status, bytesOut))) res.end(req.method === 'HEAD' ? undefined : payload);
          },
          onChunk(chunk) {
            if (res.destroyed || res.writableEnded) return;
            const bytes = chunk.byteLength;
            bytesOut += bytes;
            // Acknowledged once written to the connection: until then it counts against the stream's high water mark.
            res.write(Buffer.from(chunk), () => control?.ack(bytes));
          },
          onBodyEnd() {
            if (!res.destroyed && !res.writableEnded) res.end();
          },
          onPullBody() {
            streamed?.pull();
          },
          onFailure(outcome) {
            // After the status went out, a failure can only cut the response short.
            if (res.headersSent) cutShort();
            else status = sendError(res, OUTCOME_ERRORS[outcome] ?? 'ISO_ERR_INTERNAL', undefined, requestId);
          },
          onEnd(end) {
            ended = true;
            release();
            res.off('close', onClose);
            if (streamed) {
              bytesIn = streamed.bytes;
              streamed.stop();
            }
            if (end.outcome !== 'ok') cutShort();
            record(end.outcome, end);
          },
        },
      );
    }

    /** Writes the status and headers; false (and the 500 sent instead) when Node refuses a header. */
    function writeHead(code: number, headers: string[]): boolean {
      try {
        res.writeHead(code, headers);
        return true;
      } catch {
        // A header the worker set that Node refuses (rare: the runtime validates them).
        status = sendError(res, 'ISO_ERR_WORKER_EXCEPTION', 'the worker returned invalid response headers', requestId);
        return false;
      }
    }

    /** A streamed response that cannot finish: the client sees the connection end before the last chunk. */
    function cutShort() {
      if (res.headersSent && !res.writableEnded) res.destroy();
    }
  };
}

/** Node's raw header list as the bridge's HeaderLines: names lower-cased, everything joined by '\n'. */
function headerLines(raw: string[]): string {
  let lines = '';
  for (let i = 0; i < raw.length; i += 2) lines += `${i === 0 ? '' : '\n'}${raw[i]!.toLowerCase()}\n${raw[i + 1]!}`;
  return lines;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The data plane's request handler: Host + path → live version → admission → executor → response,
 * and one invocation record per request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IsolaneError } from '../errors.ts';
import type { ExecutorClient, InvocationControl, InvocationHandlers } from '../isolates/executor-client.ts';
import type { EndMessage, ResponseMessage } from '../isolates/protocol.ts';
import type { Admission, Entrant } from '../limits/admission.ts';
import type { LiveDeployments } from '../live/live-deployments.ts';
import type { MeterSink } from '../metering/meter.ts';
import { invocationRecord, isoNow, type EndFigures } from '../metering/record.ts';
import type { Outcome, Version } from '../types.ts';
import { OUTCOME_ERRORS, sendError } from './error-response.ts';
import { bodyTooLarge, declaredLength, hasBody, readBody } from './read-body.ts';
import { StreamedBody } from './streamed-body.ts';
import { requestTarget } from './request-target.ts';
import { responseHead } from './response-head.ts';
import type { WebSocket } from 'ws';
import { completeWebSocket, isPendingUpgrade } from './websocket-upgrade.ts';
import { addBacklog, removeBacklog, roomFor, SMALL_SEND_BYTES, WORKER_UNSENT_BYTES, type Backlog } from './worker-backlogs.ts';
import { MAX_SERVICE_CALLS_PER_REQUEST, MAX_SERVICE_DEPTH, SERVICE_CALL_HEADER, ServiceCallBudget, serviceCallOf, type ServiceCall } from '../outbound/service-call.ts';

/** A WebSocket client that takes none of what the worker sends while this much waits is disconnected. */
const WEBSOCKET_UNSENT_BYTES = 16 * 1024 * 1024;

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
  /** A whole response the client takes none of for this long: its connection is closed. */
  sendStallMs: number;
  /** The token of service-binding calls (service-call.ts); null: there are none. */
  serviceToken?: string | null;
}

export function createDataPlane(options: DataPlaneOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const serviceToken = options.serviceToken ?? null;
  const budget = new ServiceCallBudget();
  return function handleRequest(req, res) {
    const call = req.headers[SERVICE_CALL_HEADER] === undefined ? null : serviceCallOf(req.headers[SERVICE_CALL_HEADER], serviceToken);
    if (call === 'invalid') {
      // It has the token, so it came from this server: never route it as a client's request.
      sendError(res, 'ISO_ERR_HTTP_BAD_REQUEST', 'a malformed service-binding call', randomUUID());
      return;
    }
    if (call !== null) {
      serviceCall(options, budget, req, res, call);
      return;
    }
    const target = requestTarget(req.headers.host, req.url ?? '/');
    if ('error' in target) {
      sendError(res, target.error, target.message, randomUUID());
      return;
    }
    let lines = requestHeaderLines(req.rawHeaders, req.socket.remoteAddress, target.absoluteHost);
    // Hop-by-hop, but a worker answering WebSockets checks it (`request.headers.get('Upgrade')`), as on Workers.
    if (lines !== null && isPendingUpgrade(req)) lines += '\nupgrade\nwebsocket';
    if (lines === null) {
      sendError(res, 'ISO_ERR_HTTP_HOST_INVALID', 'the request has more than one Host header', randomUUID());
      return;
    }
    const version = options.live.resolve(target.host, target.path);
    if (!version) {
      sendError(res, 'ISO_ERR_ROUTE_NOT_FOUND', `no worker serves host ${JSON.stringify(req.headers.host ?? target.host)}`, randomUUID());
      return;
    }
    new RoutedRequest(options, req, res, version, target.url, lines).start();
  };
}

/** A service-binding call from one of this server's executors: to the named worker, whatever the route table says. */
function serviceCall(options: DataPlaneOptions, budget: ServiceCallBudget, req: IncomingMessage, res: ServerResponse, call: ServiceCall): void {
  if (call.depth > MAX_SERVICE_DEPTH) {
    sendError(res, 'ISO_ERR_SERVICE_DEPTH', `a chain of service-binding calls is at most ${MAX_SERVICE_DEPTH} deep`, randomUUID());
    return;
  }
  if (!budget.spend(call.root)) {
    sendError(res, 'ISO_ERR_SERVICE_CALLS', `a request's service-binding calls, and theirs, are at most ${MAX_SERVICE_CALLS_PER_REQUEST} in all`, randomUUID());
    return;
  }
  const version = options.live.worker(call.worker);
  if (!version) {
    sendError(res, 'ISO_ERR_WORKER_NOT_FOUND', `the service binding names ${JSON.stringify(call.worker)}, which is not deployed`, randomUUID());
    return;
  }
  // The caller's headers as it sent them: the client's cf-connecting-ip and x-forwarded-for pass on,
  // and nothing of the loopback connection is added, as on Workers.
  const lines = requestHeaderLines(req.rawHeaders, undefined, new URL(call.url).host, true);
  if (lines === null) {
    sendError(res, 'ISO_ERR_HTTP_HOST_INVALID', 'the request has more than one Host header', randomUUID());
    return;
  }
  new RoutedRequest(options, req, res, version, call.url, lines, call).start();
}

/** What a request that did not run reports to the meter. */
const NOT_RUN: EndFigures = Object.freeze({ cold: false, initMs: null, cpuUs: 0, memoryBytes: 0 });

/**
 * One request routed to a version, from admission to its invocation record. It is the admission's
 * entrant, the executor's handlers and its worker's backlog (worker-backlogs.ts) at once: one object a
 * request, where closures for each role made a dozen (the serving thread's young-generation
 * collections are most of the tail at 50% load).
 */
class RoutedRequest implements Entrant, InvocationHandlers, Backlog {
  readonly #options: DataPlaneOptions;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #version: Version;
  readonly #url: string;
  readonly #headerLines: string;
  /** What made it a service-binding call (its depth and root), or null: a client's request. */
  readonly #call: ServiceCall | null;
  readonly #arrived = performance.now();
  readonly #startedAt = isoNow();
  readonly requestId = randomUUID();
  readonly #bodyLimit: number;
  /** The wall-time limit counts from arrival: time spent reading the body or waiting for admission is in it. */
  readonly #deadline: number;
  #body: ArrayBuffer | null | 'stream' = null;
  #streamed: StreamedBody | null = null;
  #release: (() => void) | null = null;
  #control: InvocationControl | null = null;
  #ended = false;
  /** The response was refused: the worker's clients had too much of its responses not taken yet. */
  #shed = false;
  /** Leaves the worker's backlog (worker-backlogs.ts) when the response is done, at the latest. */
  #backlogHooked = false;
  #bytesIn = 0;
  #bytesOut = 0;
  #status = 0;
  /** The worker's WebSocket, once its 101 completed the upgrade. */
  #ws: WebSocket | null = null;
  /** While the WebSocket's client has not taken all that was sent (#watchWebSocketSend). */
  #wsSendWatch: NodeJS.Timeout | null = null;
  /** The client went away before the response was complete: the invocation is canceled. */
  readonly #onClose = () => {
    const res = this.#res;
    if (!res.writableFinished && !this.#ended) this.#control?.cancel(res.headersSent ? 'responseStreamDisconnected' : 'canceled');
  };

  constructor(options: DataPlaneOptions, req: IncomingMessage, res: ServerResponse, version: Version, url: string, headerLines: string, call: ServiceCall | null = null) {
    this.#options = options;
    this.#call = call;
    this.#req = req;
    this.#res = res;
    this.#version = version;
    this.#url = url;
    this.#headerLines = headerLines;
    this.#bodyLimit = Math.min(options.maxRequestBytes, version.limits.requestBytes);
    this.#deadline = Date.now() + version.limits.wallMs;
  }

  start(): void {
    const req = this.#req;
    const blocked = this.#options.blockedFor(this.#version.worker);
    if (blocked > 0) {
      // Answered late: a client that retries at once sends a few requests a second instead of taking
      // the process's request capacity from the other tenants with refusals.
      setTimeout(() => {
        if (!this.#res.destroyed) this.#status = sendError(this.#res, 'ISO_ERR_WORKER_THROTTLED', undefined, this.requestId, { 'retry-after': String(Math.ceil(blocked / 1000)) });
        this.#record('loadShed', NOT_RUN);
      }, Math.min(blocked, THROTTLED_ANSWER_DELAY_MS));
      return;
    }
    // Most requests have no body: no promise, no extra turn of the event loop. A small body of known
    // length is read whole (one crossing into the isolate); any other is streamed as the worker reads it.
    const declared = hasBody(req) ? declaredLength(req) : 0;
    const limit = this.#bodyLimit;
    // Content-Length: 0 is an empty body, not none: the worker's request.body is an empty stream, as on Workers.
    if (declared === 0) this.#admit(req.headers['content-length'] === undefined ? null : new ArrayBuffer(0));
    else if (declared !== null && declared > limit) this.#refuse(bodyTooLarge(limit));
    else if (declared !== null && declared <= WHOLE_BODY_BYTES) {
      this.#continue();
      readBody(req, limit, this.#deadline).then((body) => this.#admit(body), (err) => this.#refuse(err));
    } else {
      this.#continue();
      this.#admit('stream');
    }
  }

  /**
   * `Expect: 100-continue`: the client waits for a go-ahead before it sends the body. Given only now,
   * once the request is routed and its declared length fits (serving-process.ts takes Node's
   * checkContinue, which would have said yes before any of that).
   */
  #continue(): void {
    const expect = this.#req.headers.expect;
    if (expect !== undefined && expect.toLowerCase() === '100-continue') this.#res.writeContinue();
  }

  #admit(body: ArrayBuffer | null | 'stream'): void {
    if (body instanceof ArrayBuffer) this.#bytesIn = body.byteLength;
    this.#body = body;
    this.#options.admission.enter(this.#version.worker, this.#version.limits.concurrency, this);
  }

  #refuse(err: unknown): void {
    // The worker never runs: no invocation, nothing metered.
    const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_BODY_INVALID');
    sendError(this.#res, error.code, error.message, this.requestId, { connection: 'close' });
  }

  shed(): void {
    this.#status = sendError(this.#res, 'ISO_ERR_WORKER_OVERLOADED', undefined, this.requestId, { 'retry-after': '1' });
    this.#record('loadShed', NOT_RUN);
  }

  admitted(release: () => void): void {
    const req = this.#req;
    const res = this.#res;
    if (res.destroyed) {
      release();
      this.#record('canceled', NOT_RUN);
      return;
    }
    this.#release = release;
    res.on('close', this.#onClose);
    const body = this.#body;
    if (body === 'stream') this.#streamed = this.#streamBody();
    const version = this.#version;
    // Handlers may run before invoke() returns: the executor enters the isolate right away.
    this.#control = this.#options.executorFor(version).invoke(
      {
        version,
        requestId: this.requestId,
        deadline: this.#deadline,
        request:
          this.#call === null
            ? { method: req.method ?? 'GET', url: this.#url, headers: this.#headerLines, body }
            : { method: req.method ?? 'GET', url: this.#url, headers: this.#headerLines, body, serviceDepth: this.#call.depth, serviceRoot: this.#call.root },
      },
      this,
    );
  }

  /** The request body, read from the connection a chunk for each pull of the worker's stream. */
  #streamBody(): StreamedBody {
    return new StreamedBody(this.#req, this.#bodyLimit, {
      chunk: (bytes) => this.#control?.sendBody(bytes),
      tooLarge: (limit) => {
        const message = `the request body is larger than ${limit} bytes`;
        this.#control?.bodyError(message);
        this.#status = sendError(this.#res, 'ISO_ERR_HTTP_BODY_TOO_LARGE', message, this.requestId, { connection: 'close' });
        this.#control?.cancel('requestTooLarge');
      },
      failed: (message) => this.#control?.bodyError(message),
    });
  }

  onResponse(message: ResponseMessage): void {
    const res = this.#res;
    if (res.destroyed) return;
    if (message.webSocket) {
      this.#openWebSocket(message.headers);
      return;
    }
    this.#status = message.status;
    if (message.streamed) {
      if (!this.#writeHead(message.status, message.statusText, responseHead(message.headers, message.status, null))) return;
      // The client sees the status at once (server-sent events), not with the first chunk. An empty
      // Buffer rather than flushHeaders(), which writes the head as UTF-8 (see below).
      res.write(NO_BYTES);
      return;
    }
    // Node writes the head in front of a string body, in the body's encoding: header values (Headers
    // keeps byte strings) or a reason phrase with Latin-1 characters would go out as UTF-8. Bytes keep
    // the head Latin-1.
    const body = message.body;
    const payload =
      body === null ? undefined : typeof body !== 'string' ? Buffer.from(body) : hasNonAscii(message.headers) || NON_ASCII.test(message.statusText) ? Buffer.from(body) : body;
    const bytes = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    const worker = this.#version.worker;
    if (this.#req.method !== 'HEAD' && !roomFor(worker, bytes)) {
      this.#shed = true;
      this.#status = sendError(res, 'ISO_ERR_WORKER_OVERLOADED', `the worker's clients have not yet taken ${WORKER_UNSENT_BYTES / 1024 / 1024} MiB of its responses in this process; retry later`, this.requestId, {
        'retry-after': '1',
      });
      return;
    }
    // What goes to the client: a HEAD's answer has no body, only the length a GET's would have.
    this.#bytesOut = this.#req.method === 'HEAD' ? 0 : bytes;
    // HEAD: the length of the body a GET would get, and no body (writing one makes Node close the connection).
    if (!this.#writeHead(message.status, message.statusText, responseHead(message.headers, message.status, bytes))) return;
    res.end(this.#req.method === 'HEAD' ? undefined : payload);
    // Most bodies go to the kernel within end(): nothing is left here, and no watch is needed.
    if (res.writableLength === 0) return;
    if (bytes > SMALL_SEND_BYTES) this.#backlog();
    this.#watchSend();
  }

  /** What the client has not taken yet (worker-backlogs.ts): of its WebSocket's frames, or of the whole body. */
  unsentBytes(): number {
    const ws = this.#ws;
    return ws ? ws.bufferedAmount : unsentResponseBytes(this.#res);
  }

  /**
   * A whole body is written at once: a client that does not read it would hold it in this process's
   * memory for as long as it keeps the connection (response_bytes is up to 256 MiB). One that takes
   * none of it for sendStallMs loses the connection. Streamed bodies need no watch: the worker waits
   * for the client there, within its wall-time limit.
   */
  #watchSend(): void {
    const res = this.#res;
    let pending = unsentResponseBytes(res);
    const watch = setInterval(() => {
      const now = unsentResponseBytes(res);
      if (res.writableFinished || res.destroyed) clearInterval(watch);
      else if (now >= pending) res.destroy();
      pending = now;
    }, this.#options.sendStallMs);
    watch.unref();
    res.once('close', () => clearInterval(watch));
  }

  /** The worker answered with a WebSocket: complete the handshake and carry frames both ways. */
  #openWebSocket(headers: string[]): void {
    const res = this.#res;
    const upgrading = completeWebSocket(
      this.#req,
      res,
      headers,
      (ws) => {
        this.#status = 101;
        this.#ws = ws;
        // An open socket runs no code until a message comes: it holds no admission slot meanwhile.
        this.#release?.();
        this.#release = null;
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          this.#bytesIn += data.byteLength;
          this.#control?.wsMessage(isBinary ? new Uint8Array(data).slice().buffer : data.toString('utf8'));
        });
        ws.on('close', (code: number, reason: Buffer) => {
          this.#stopWebSocketSendWatch();
          this.#ws = null;
          this.#control?.wsClosed(code, reason.toString('utf8'), code !== 1006);
        });
        ws.on('error', () => ws.terminate());
      },
      () => this.#control?.wsClosed(1006, '', false),
    );
    // The socket is the WebSocket's now: its end is the WebSocket's close, not a cancelled request.
    if (upgrading) res.off('close', this.#onClose);
    else {
      this.#status = sendError(res, 'ISO_ERR_WORKER_EXCEPTION', 'the worker answered with a WebSocket, but the request is not a WebSocket upgrade', this.requestId);
      this.#control?.wsClosed(1006, '', false);
    }
  }

  onWsSend(data: string | ArrayBuffer): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    ws.send(typeof data === 'string' ? data : Buffer.from(data));
    if (ws.bufferedAmount === 0) return;
    if (ws.bufferedAmount > WEBSOCKET_UNSENT_BYTES || !roomFor(this.#version.worker, ws.bufferedAmount, this)) ws.terminate();
    else this.#watchWebSocketSend(ws);
  }

  /**
   * Sends the client has not taken yet: counted against the worker's share while they wait, and, as for a
   * whole body (#watchSend), a client that takes none of them for sendStallMs is disconnected.
   */
  #watchWebSocketSend(ws: WebSocket): void {
    if (this.#wsSendWatch) return;
    addBacklog(this.#version.worker, this);
    let pending = ws.bufferedAmount;
    this.#wsSendWatch = setInterval(() => {
      const now = ws.bufferedAmount;
      if (now === 0 || ws.readyState !== ws.OPEN) this.#stopWebSocketSendWatch();
      else if (now >= pending) {
        this.#stopWebSocketSendWatch();
        ws.terminate();
      }
      pending = now;
    }, this.#options.sendStallMs);
    this.#wsSendWatch.unref();
  }

  #stopWebSocketSendWatch(): void {
    if (!this.#wsSendWatch) return;
    clearInterval(this.#wsSendWatch);
    this.#wsSendWatch = null;
    removeBacklog(this.#version.worker, this);
  }

  onWsClose(code: number, reason: string): void {
    const ws = this.#ws;
    if (!ws) return;
    // The executor passes only codes and reasons ws accepts; should ws still refuse one, it would throw
    // here, outside any invocation, and end the process: the socket is dropped instead.
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
    }
  }

  onChunk(chunk: ArrayBuffer): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    const bytes = chunk.byteLength;
    this.#bytesOut += bytes;
    // The high water mark holds back the next chunk, not this one, which is as big as the worker made
    // it: a big one counts against the worker's budget until it is written to the connection.
    const big = bytes > SMALL_SEND_BYTES;
    // Acknowledged once written to the connection: until then it counts against the stream's high water mark.
    res.write(Buffer.from(chunk), () => {
      if (big) removeBacklog(this.#version.worker, this);
      this.#control?.ack(bytes);
    });
    if (!big) return;
    if (roomFor(this.#version.worker, unsentResponseBytes(res), this)) this.#backlog();
    else res.destroy();
  }

  /** Counts what the client has not taken yet against the worker's budget (worker-backlogs.ts) until removed, or the response is done. */
  #backlog(): void {
    const worker = this.#version.worker;
    addBacklog(worker, this);
    if (this.#backlogHooked) return;
    this.#backlogHooked = true;
    this.#res.once('close', () => removeBacklog(worker, this));
  }

  onBodyEnd(): void {
    if (!this.#res.destroyed && !this.#res.writableEnded) this.#res.end();
  }

  onPullBody(): void {
    this.#streamed?.pull();
  }

  onFailure(outcome: Outcome): void {
    // After the status went out, a failure can only cut the response short.
    if (this.#res.headersSent) this.#cutShort();
    // A client already gone gets nothing: its record says status 0, not an error page never sent.
    else if (!this.#res.destroyed) this.#status = sendError(this.#res, OUTCOME_ERRORS[outcome] ?? 'ISO_ERR_INTERNAL', undefined, this.requestId);
  }

  onEnd(end: EndMessage): void {
    this.#ended = true;
    this.#release?.();
    this.#res.off('close', this.#onClose);
    const streamed = this.#streamed;
    if (streamed) {
      this.#bytesIn = streamed.bytes;
      streamed.stop();
    }
    if (end.outcome !== 'ok') this.#cutShort();
    // The invocation ended with its socket still open (a limit, or the isolate went): 1011, as a server error.
    if (this.#ws) {
      this.#ws.close(1011, 'the worker stopped');
      this.#ws = null;
    }
    this.#record(this.#shed ? 'loadShed' : end.outcome, end);
  }

  /** Writes the status and headers; false (and the 500 sent instead) when Node refuses a header. */
  #writeHead(code: number, statusText: string, headers: string[]): boolean {
    try {
      if (statusText === '') this.#res.writeHead(code, headers);
      else this.#res.writeHead(code, statusText, headers);
      return true;
    } catch {
      // A header the worker set that Node refuses (rare: the runtime validates them).
      this.#status = sendError(this.#res, 'ISO_ERR_WORKER_EXCEPTION', 'the worker returned invalid response headers', this.requestId);
      return false;
    }
  }

  /** A streamed response that cannot finish: the client sees the connection end before the last chunk. */
  #cutShort(): void {
    const res = this.#res;
    if (res.headersSent && !res.writableEnded) res.destroy();
  }

  #record(outcome: Outcome, end: EndFigures): void {
    this.#options.meter.invocation(
      invocationRecord(
        { requestId: this.requestId, version: this.#version, outcome, status: this.#status, arrived: this.#arrived, startedAt: this.#startedAt, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut },
        end,
      ),
    );
  }
}

/**
 * Bytes of the response not yet taken by the kernel. res.writableLength counts a write as pending
 * until all of it is out (one write of the whole body: it did not move while a client read 7 of
 * 16 MB), so progress is read from libuv's write queue, which shrinks as the client reads. A corked
 * socket (Node corks it for a chunk of a chunked body until the next tick) has not handed libuv its
 * buffer yet: all of that counts.
 */
function unsentResponseBytes(res: ServerResponse): number {
  const socket = res.socket;
  const queued = (socket as { _handle?: { writeQueueSize?: number } } | null)?._handle?.writeQueueSize;
  if (!socket || typeof queued !== 'number') return res.writableLength;
  return queued + (socket.writableCorked > 0 ? socket.writableLength : 0) + (res.writableLength - socket.writableLength);
}

/**
 * Headers about this connection, not the request (RFC 9110 §7.6.1): they stay here, as on Workers. A
 * worker that passes its request on with fetch() would otherwise send them upstream, where undici
 * refuses some (a client's `Transfer-Encoding` made any proxying worker answer 502).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'expect']);

/**
 * Node's raw header list as the bridge's HeaderLines (names lower-cased, everything joined by '\n'),
 * without hop-by-hop headers, with `cf-connecting-ip` the connection's own address, as Workers sets it
 * (a client's own is dropped), and that address appended to `x-forwarded-for`, as Cloudflare does (its
 * last entry is the one this server vouches for). Null if the request has more than one Host header
 * (RFC 9112 §3.2).
 */
function requestHeaderLines(raw: string[], clientAddress: string | undefined, host: string | null, serviceCall = false): string | null {
  let lines = '';
  let hosts = 0;
  let named: string | null = null;
  let forwarded: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'host' && ++hosts > 1) return null;
    if (name === 'connection') named = named === null ? raw[i + 1]!.toLowerCase() : `${named},${raw[i + 1]!.toLowerCase()}`;
    if (name === 'x-forwarded-for' && clientAddress !== undefined) {
      forwarded = forwarded === null ? raw[i + 1]! : `${forwarded}, ${raw[i + 1]!}`;
      continue;
    }
    if (HOP_BY_HOP.has(name) || (name === 'cf-connecting-ip' && !serviceCall) || name === SERVICE_CALL_HEADER || (name === 'host' && host !== null)) continue;
    lines += `${lines === '' ? '' : '\n'}${name}\n${raw[i + 1]!}`;
  }
  // After the client's headers are filtered: a Connection header cannot name these away.
  if (named !== null && named !== 'keep-alive' && named !== 'close') lines = withoutNamedHeaders(lines, named);
  // The absolute form: the request's host is its target's (RFC 9112 section 3.2.2), and so is its Host header.
  if (host !== null) lines = `host\n${host}${lines === '' ? '' : '\n'}${lines}`;
  if (clientAddress !== undefined) {
    lines += `${lines === '' ? '' : '\n'}cf-connecting-ip\n${clientAddress}\nx-forwarded-for\n${forwarded === null || forwarded === '' ? '' : `${forwarded}, `}${clientAddress}`;
  }
  return lines;
}

/** The headers a Connection header names are hop-by-hop too (rare: most say keep-alive or close). */
function withoutNamedHeaders(lines: string, connection: string): string {
  const named = new Set(connection.split(',').map((token) => token.trim()));
  const parts = lines.split('\n');
  let kept = '';
  for (let i = 0; i < parts.length; i += 2) {
    if (named.has(parts[i]!) && parts[i] !== 'host') continue;
    kept += `${kept === '' ? '' : '\n'}${parts[i]}\n${parts[i + 1]}`;
  }
  return kept;
}

function hasNonAscii(list: string[]): boolean {
  for (let i = 1; i < list.length; i += 2) if (NON_ASCII.test(list[i]!)) return true;
  return false;
}
const NON_ASCII = /[^\x00-\x7f]/;
const NO_BYTES = Buffer.alloc(0);


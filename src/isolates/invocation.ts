/**
 * One invocation inside an executor thread: owns its CPU budget, its timers and its outcome. All the
 * timers it armed die with it; the executor ends it exactly once.
 */
import type { Subrequests } from '../outbound/subrequests.ts';
import type { QueuedRequest } from './request-batches.ts';
import type { Outcome } from '../types.ts';

export class Invocation {
  readonly id: number;
  readonly requestId: string;
  /** Date.now() at which it ends with exceededWallTime; none once it holds a WebSocket. */
  deadline: number;
  /** CPU it may use in all: a WebSocket's each message raises it by the worker's limit. */
  cpuLimitUs: number;
  readonly timers = new Set<number>();
  cpuUs = 0;
  responded = false;
  /** The runtime is done with it (host 'done'); it ends just after the slice. */
  finished = false;
  /** Waiting for the end of the turn to enter its isolate (request-batches.ts): it has not run yet. */
  queued: QueuedRequest | null = null;
  ended = false;
  /** Set when the handler failed before the invocation could end normally. */
  failure: Outcome | null = null;
  cold = false;
  initMs: number | null = null;
  /** Console lines and characters this invocation wrote (they are capped: see Executor). */
  logLines = 0;
  logChars = 0;
  logCut = false;
  /** Its outbound fetches, created on the first one. */
  subrequests: Subrequests | null = null;
  /** Bytes of its fetches' whole request bodies the host holds (src/limits/host-held-bytes.ts), by fetch id. */
  heldFetchBodies: Map<number, number> | null = null;
  /** The response body is a stream still being sent. */
  streaming = false;
  /** Response body bytes sent so far (whole or streamed), against the worker's responseBytes limit. */
  bytesOut = 0;
  /** Streamed bytes sent to the client's connection but not yet written to it (see AckMessage). */
  unackedBytes = 0;
  /** The runtime stopped reading the response stream until the client catches up. */
  paused = false;
  /** KV operations so far (src/kv/kv-calls.ts). */
  kvOps = 0;
  /** D1 statements run (D1_LIMITS.queriesPerInvocation). */
  d1Queries = 0;
  /** 0 for a client's request; else how deep in a chain of service-binding calls it is. */
  serviceDepth = 0;
  /** The request id of the client's request its chain of service-binding calls started from (its own for a client's). */
  serviceRoot: string;
  /** It answered with a WebSocket (a 101): it lasts as long as the socket. */
  webSocket = false;

  constructor(id: number, requestId: string, deadline: number, cpuLimitMs: number) {
    this.id = id;
    this.requestId = requestId;
    this.serviceRoot = requestId;
    this.deadline = deadline;
    this.cpuLimitUs = cpuLimitMs * 1000;
  }

  get remainingCpuMs(): number {
    return (this.cpuLimitUs - this.cpuUs) / 1000;
  }
}

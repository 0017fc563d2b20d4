/**
 * Messages between the main thread (HTTP, routing, metering) and an executor thread (isolates).
 * Plain data only: every message is structured-cloned, bodies are transferred.
 */
import type { Outcome, Version } from '../types.ts';

/** A whole body as its UTF-8 text (never the string 'stream', the mark of a streamed body). */
export type TextBody = string;

export interface RequestData {
  method: string;
  url: string;
  /** Names (lower-case) and values joined by '\n': the bridge's HeaderLines (runtime/host.d.ts). */
  headers: string;
  /**
   * The whole body, none, or 'stream': its chunks follow as RequestBodyMessages when the worker asks.
   * The executor passes a whole body that is UTF-8 on as its text, and keeps it so (host-text.ts).
   */
  body: ArrayBuffer | TextBody | null | 'stream';
  /** How deep in a chain of service-binding calls (src/outbound/service-call.ts) this request is; absent: a client's. */
  serviceDepth?: number;
  /** With serviceDepth: the request id of the client's request the chain started from. */
  serviceRoot?: string;
}

/** A cron trigger's event, run by the worker's scheduled handler instead of a request (src/triggers/). */
export interface ScheduledEventData {
  cron: string;
  /** When the trigger was due, ms since the epoch. */
  scheduledTime: number;
}

// main → executor

/** Make a version known to the executor; sent before the first invoke or validate that names it. */
export interface LoadMessage { t: 'load'; version: Version }
/** The version is no longer live: retire its isolate once idle and forget it. */
export interface UnloadMessage { t: 'unload'; versionId: string }
/** The worker is deleted: drop what the executor keeps for it beyond its versions (its Cache API entries). */
export interface ForgetWorkerMessage { t: 'forgetWorker'; worker: string }
export interface InvokeMessage {
  t: 'invoke';
  id: number;
  requestId: string;
  worker: string;
  versionId: string;
  /** Date.now() value at which the invocation ends with exceededWallTime. */
  deadline: number;
  request: RequestData | ScheduledEventData;
}
/**
 * The client went away (`canceled` before the response began, `responseStreamDisconnected` during it)
 * or sent too much: end the invocation with `outcome`. A client gone ends only the response: as on
 * Workers, waitUntil() work goes on.
 */
export interface CancelMessage { t: 'cancel'; id: number; outcome: Outcome }
/** The next chunk of a streamed request body, after a PullBodyMessage; null: the body ended. */
export interface RequestBodyMessage { t: 'requestBody'; id: number; chunk: ArrayBuffer | null }
/** The streamed request body cannot be read to its end. */
export interface RequestBodyErrorMessage { t: 'requestBodyError'; id: number; message: string }
/** A frame from the client of the invocation's WebSocket (after a ResponseMessage with `webSocket`). */
export interface WsMessageMessage { t: 'wsMessage'; id: number; data: string | ArrayBuffer }
/** The invocation's WebSocket is closed; `wasClean` false when the connection ended without a close frame. */
export interface WsClosedMessage { t: 'wsClosed'; id: number; code: number; reason: string; wasClean: boolean }
/** `bytes` of the streamed response body were written to the client's connection. */
export interface AckMessage { t: 'ack'; id: number; bytes: number }
/** Build the version in a fresh isolate (compile, instantiate, find the handler) and keep it warm. */
/** Build the version and keep it warm; `startupCpuMs` lowers the startup limit for this build. */
export interface ValidateMessage { t: 'validate'; jobId: number; versionId: string; startupCpuMs?: number }

/** Dispose every isolate and let the thread exit. */
export interface ShutdownMessage { t: 'shutdown' }

export type ToExecutor =
  | LoadMessage
  | UnloadMessage
  | ForgetWorkerMessage
  | InvokeMessage
  | CancelMessage
  | RequestBodyMessage
  | RequestBodyErrorMessage
  | AckMessage
  | WsMessageMessage
  | WsClosedMessage
  | ValidateMessage
  | ShutdownMessage;

// executor → main

export interface ResponseMessage {
  t: 'response';
  id: number;
  status: number;
  /** The worker's reason phrase, or '' for the standard one. */
  statusText: string;
  headers: string[];
  body: ArrayBuffer | string | null;
  /** The body is a stream: it follows as ChunkMessages, then a BodyEndMessage. */
  streamed: boolean;
  /** A 101 with a WebSocket: complete the upgrade; frames follow as WsSendMessages, the end as WsCloseMessage. */
  webSocket?: boolean;
}
/** A frame for the client of the invocation's WebSocket. */
export interface WsSendMessage { t: 'wsSend'; id: number; data: string | ArrayBuffer }
/** The worker closes its WebSocket. */
export interface WsCloseMessage { t: 'wsClose'; id: number; code: number; reason: string }
export interface ChunkMessage { t: 'chunk'; id: number; chunk: ArrayBuffer }
export interface BodyEndMessage { t: 'bodyEnd'; id: number }
/** The worker wants the next chunk of its streamed request body. */
export interface PullBodyMessage { t: 'pullBody'; id: number }
/**
 * The invocation cannot answer (before a response: the main thread sends the error page for `outcome`),
 * or its streamed response failed midway (the main thread cuts the response short).
 */
export interface FailureMessage { t: 'failure'; id: number; outcome: Outcome }
/** The invocation is over (response sent or failed, waitUntil settled): its metering figures. */
export interface EndMessage {
  t: 'end';
  id: number;
  outcome: Outcome;
  cold: boolean;
  initMs: number | null;
  cpuUs: number;
  memoryBytes: number;
}
export interface LogMessage {
  t: 'log';
  worker: string;
  requestId: string | null;
  level: string;
  message: string;
}
export interface ValidatedMessage {
  t: 'validated';
  jobId: number;
  /** null when the version built and has a fetch handler. */
  error: { code: 'ISO_ERR_DEPLOY_SYNTAX' | 'ISO_ERR_DEPLOY_STARTUP' | 'ISO_ERR_DEPLOY_NO_HANDLER' | 'ISO_ERR_DEPLOY_MODULE_MISSING'; message: string; details?: Record<string, unknown> } | null;
  syntax: 'module' | 'service-worker' | null;
  /** How long the build took (isolate, modules, top-level code), in ms; null on error. */
  initMs: number | null;
}

/**
 * The invocation did not run: its version's cold start ran past this executor's quick-start budget
 * (ExecutorOptions.quickStartCpuMs). Nothing was answered or metered; the caller runs it elsewhere.
 */
export interface SlowStartMessage { t: 'slowStart'; id: number }

/** An idle isolate's memory was given back (memory-reducer.ts), for the process's stats. */
export interface MemoryReducedMessage { t: 'memoryReduced'; cpuUs: number }

/**
 * At most each second, when any of them changed: the executor's warm isolates, how many its bounds evicted
 * so far, and its thread's CPU on the platform's work inside slices (watchdog.ts platformCpuUs).
 */
export interface PoolMessage { t: 'pool'; warm: number; evicted: number; platformCpuUs: number }

export type FromExecutor =
  | ResponseMessage
  | ChunkMessage
  | BodyEndMessage
  | WsSendMessage
  | WsCloseMessage
  | PullBodyMessage
  | FailureMessage
  | EndMessage
  | LogMessage
  | ValidatedMessage
  | SlowStartMessage
  | MemoryReducedMessage
  | PoolMessage;

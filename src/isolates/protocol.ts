/**
 * Messages between the main thread (HTTP, routing, metering) and an executor thread (isolates).
 * Plain data only: every message is structured-cloned, bodies are transferred.
 */
import type { Outcome, Version } from '../types.ts';

export interface RequestData {
  method: string;
  url: string;
  /** Flat [name, value, ...] list, names lower-case. */
  headers: string[];
  body: ArrayBuffer | null;
}

// main → executor

/** Make a version known to the executor; sent before the first invoke or validate that names it. */
export interface LoadMessage { t: 'load'; version: Version }
/** The version is no longer live: retire its isolate once idle and forget it. */
export interface UnloadMessage { t: 'unload'; versionId: string }
export interface InvokeMessage {
  t: 'invoke';
  id: number;
  requestId: string;
  worker: string;
  versionId: string;
  /** Date.now() value at which the invocation ends with exceededWallTime. */
  deadline: number;
  request: RequestData;
}
export interface CancelMessage { t: 'cancel'; id: number }
/** Build the version in a fresh isolate (compile, instantiate, find the handler) and keep it warm. */
export interface ValidateMessage { t: 'validate'; jobId: number; versionId: string }

/** Dispose every isolate and let the thread exit. */
export interface ShutdownMessage { t: 'shutdown' }

export type ToExecutor = LoadMessage | UnloadMessage | InvokeMessage | CancelMessage | ValidateMessage | ShutdownMessage;

// executor → main

export interface ResponseMessage {
  t: 'response';
  id: number;
  status: number;
  headers: string[];
  body: ArrayBuffer | string | null;
}
/** The invocation cannot answer: the main thread sends the error page for `outcome`. */
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
}

export type FromExecutor = ResponseMessage | FailureMessage | EndMessage | LogMessage | ValidatedMessage;

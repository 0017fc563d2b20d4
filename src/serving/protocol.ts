/**
 * Messages between the main thread (admin API, store, metering) and the serving threads (HTTP data
 * plane + isolates). Plain data only.
 */
import type { InvocationRecord, Route, Version } from '../types.ts';

export interface ServingThreadData {
  runtimeCode: string;
  host: string;
  port: number;
  workersDomain: string | null;
  maxRequestBytes: number;
  pool: { maxIsolates: number; maxMemoryBytes: number; idleMs: number };
  /** Host names and addresses outbound fetch may reach on the host's own network. */
  fetchAllow: string[];
}

// main → serving thread

/** What is live changed; `seq` is acknowledged once requests see it. */
export type LiveChange =
  | { t: 'worker'; seq: number; name: string; version: Version | null }
  | { t: 'routes'; seq: number; routes: Route[] };
export interface ValidateRequest { t: 'validate'; jobId: number; version: Version }
/** Build a just-deployed version here too, so no thread's first request to it is a cold start. */
export interface WarmRequest { t: 'warm'; version: Version }
/** Stop accepting connections, let in-flight requests finish for up to `graceMs`, then exit. */
export interface Shutdown { t: 'shutdown'; graceMs: number }

export type ToServing = LiveChange | ValidateRequest | WarmRequest | Shutdown;

// serving thread → main

export interface Listening { t: 'listening'; port: number }
export interface Applied { t: 'applied'; seq: number }
export interface Validated {
  t: 'validated';
  jobId: number;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  syntax: 'module' | 'service-worker' | null;
}
export interface ConsoleLine { worker: string; requestId: string | null; level: string; message: string; time: string }
/** Records and console lines, batched per event-loop turn. */
export interface Metering { t: 'metering'; records: InvocationRecord[]; lines: ConsoleLine[] }

export type FromServing = Listening | Applied | Validated | Metering;

/**
 * Messages between the primary process (admin API, store, metering) and the serving processes (HTTP data
 * plane + isolates), over the cluster's IPC channel with structured-clone serialization. Plain data only.
 */
import type { RuntimeBundle } from '../isolates/runtime-bundle.ts';
import type { D1Settings } from '../d1/d1-processes.ts';
import type { RecordBatch } from '../metering/record.ts';
import type { DueTrigger } from '../triggers/cron-scheduler.ts';
import type { InvocationRecord, Route, Version } from '../types.ts';

export interface ServingProcessData {
  runtime: RuntimeBundle;
  host: string;
  port: number;
  workersDomain: string | null;
  maxRequestBytes: number;
  /** Time a client has to send its request headers (slow clients get 408). */
  headersTimeoutMs: number;
  /** A whole response the client takes none of for this long: its connection is closed. */
  sendStallMs: number;
  pool: { maxIsolates: number; maxMemoryBytes: number; idleMs: number };
  /** A warm isolate unused this long gets a memory-reducing collection (0: never). */
  idleGcMs: number;
  /** Host names and addresses outbound fetch may reach on the host's own network. */
  fetchAllow: string[];
  /** Where compiled modules' V8 code caches are kept (code-cache-files.ts); null: in memory only. */
  codeCacheDir: string | null;
  /** Where KV namespaces are kept (src/kv/). */
  kvDir: string;
  /** D1's directory and limits (src/d1/). */
  d1: D1Settings;
  /** The token that marks service-binding calls to the data plane (src/outbound/service-call.ts). */
  serviceToken: string;
}

// primary → serving process

/** The first message a serving process gets: its configuration. */
export interface ServingInit { t: 'init'; data: ServingProcessData }

/** What is live changed; `seq` is acknowledged once requests see it. */
export type LiveChange =
  | { t: 'worker'; seq: number; name: string; version: Version | null }
  | { t: 'routes'; seq: number; routes: Route[] };
/** Build a deployed version (and keep it warm); answered with `validated`. Every process gets one per deploy. */
export interface ValidateRequest { t: 'validate'; jobId: number; version: Version }
/** Stop accepting connections, let in-flight requests finish for up to `graceMs`, then exit. */
export interface Shutdown { t: 'shutdown'; graceMs: number }

/**
 * A deploy failed in the process whose answer counted: drop what this process built of that version
 * (a top-level failure that depends on chance can pass in one process and not in another), unless live.
 */
export interface Discard { t: 'discard'; worker: string; versionId: string }
/** Run a cron trigger's event in the worker's live version; answered with `scheduledDone`. */
export interface ScheduledRequest { t: 'scheduled'; jobId: number; trigger: DueTrigger }
export type ToServing = ServingInit | LiveChange | ValidateRequest | Discard | ScheduledRequest | Shutdown;

// serving process → primary

export interface Listening { t: 'listening'; port: number }
export interface Applied { t: 'applied'; seq: number }
export interface Validated {
  t: 'validated';
  jobId: number;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  syntax: 'module' | 'service-worker' | null;
}
export interface ConsoleLine { worker: string; requestId: string | null; level: string; message: string; time: string }
/** The event is over: its record (also sent with the metering), or null when the worker is not live here. */
export interface ScheduledDone { t: 'scheduledDone'; jobId: number; record: InvocationRecord | null }
/** Records and console lines, batched per event-loop turn. */
export interface Metering { t: 'metering'; records: RecordBatch; lines: ConsoleLine[] }

/** Every second: what the primary needs to decide on recycling the process. */
export interface Stats {
  t: 'stats';
  rss: number;
  requests: number;
  /** Idle isolates whose memory was given back, and the CPU that took (src/isolates/memory-reducer.ts). */
  memoryReductions: number;
  memoryReductionCpuUs: number;
  /** CPU spent on the platform's own work inside tenants' slices, charged to none of them (src/limits/watchdog.ts). */
  platformCpuUs: number;
  /** Warm tenant isolates (serving thread and offload thread), and those evicted by the pool's bounds so far. */
  warmIsolates: number;
  evictedIsolates: number;
}
/** The last message of a process that shut down: everything before it was delivered. */
export interface Stopped { t: 'stopped' }

export type FromServing = Listening | Applied | Validated | ScheduledDone | Metering | Stats | Stopped;

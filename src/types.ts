/** Types shared by more than one room of the server. */

/** Per-worker limits, fixed at deploy time. */
export interface Limits {
  /** CPU time one invocation may use, all of its code (handler, timers, promise jobs, waitUntil). */
  cpuMs: number;
  /** Heap plus ArrayBuffer memory of the worker's isolate. */
  memoryMb: number;
  /** Wall time from request arrival to the end of the invocation (response and waitUntil). */
  wallMs: number;
  /** Invocations running at once in the worker before new ones queue. */
  concurrency: number;
  /** Largest request body the worker accepts (413 past it); the server's own cap still applies. */
  requestBytes: number;
  /** Largest response body the worker may send; past it the response is cut short (responseTooLarge). */
  responseBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  cpuMs: 50,
  memoryMb: 128,
  wallMs: 30_000,
  concurrency: 64,
  requestBytes: 32 * 1024 * 1024,
  responseBytes: 256 * 1024 * 1024,
});

/** Upper bounds a deploy may ask for. */
export const MAX_LIMITS: Readonly<Limits> = Object.freeze({
  cpuMs: 300_000,
  memoryMb: 1024,
  wallMs: 900_000,
  concurrency: 1000,
  requestBytes: 1024 * 1024 * 1024,
  responseBytes: 4 * 1024 * 1024 * 1024,
});

export type BindingType = 'plain_text' | 'secret_text' | 'json' | 'kv_namespace' | 'd1' | 'service';

export interface Binding {
  type: BindingType;
  name: string;
  /** plain_text and secret_text */
  text?: string;
  /** json */
  json?: unknown;
  /** kv_namespace: the namespace's id (src/kv/) */
  namespaceId?: string;
  /** d1: the database's id (src/d1/) */
  databaseId?: string;
  /** service: the worker its fetch() reaches (src/outbound/service-call.ts) */
  service?: string;
}

/**
 * The binding named `name` of type `type` in `bindings`: a worker's call names its binding, never what
 * it reaches, so it reaches only what its deployed version binds.
 */
export function boundAs(bindings: readonly Binding[], name: string, type: BindingType): Binding | undefined {
  return bindings.find((binding) => binding.name === name && binding.type === type);
}

export type ModuleType = 'esm' | 'text' | 'json' | 'data';

export interface WorkerModule {
  /** Normalised relative name, e.g. `main.js`, `lib/util.js`. */
  name: string;
  type: ModuleType;
  /** Source text (esm, text, json) or base64 of bytes (data). */
  content: string;
}

/** What an upload describes: code plus configuration. Immutable once stored. */
export interface VersionSpec {
  /** `module` runs `main` as an ES module; `service-worker` runs it as a classic script. */
  syntax: 'module' | 'service-worker';
  main: string;
  modules: WorkerModule[];
  bindings: Binding[];
  compatibilityDate: string | null;
  limits: Limits;
  /**
   * Host names and IP addresses this worker's fetch() may reach although they are on the host's own
   * network (the operator's exception, on top of the server-wide ISOLANE_FETCH_ALLOW). Absent when empty.
   */
  fetchAllow?: string[];
  /**
   * Compatibility flags (Cloudflare's `compatibility_flags`); absent when none. Of Cloudflare's, only
   * `nodejs_compat` and `nodejs_compat_v2` change anything here: Node.js built-in modules
   * (src/isolates/builtin-modules.ts).
   */
  compatibilityFlags?: string[];
}

/** A stored version: its content-addressed id plus the spec. */
export interface Version extends VersionSpec {
  id: string;
  /** The worker this version belongs to (part of the id's hash). */
  worker: string;
  createdAt: string;
}

/** A worker: a name pointing at its active version, with the last versions kept for rollback. */
export interface WorkerRecord {
  name: string;
  activeVersion: string;
  /** Newest first; includes the active one. */
  versions: string[];
  /** Cron expressions of its cron triggers (src/triggers/), as given; UTC. Kept across deploys. */
  schedules: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Route {
  /** `host/path` pattern; `*` only at the start of the host and the end of the path. */
  pattern: string;
  worker: string;
}

/**
 * How an invocation ended. Names follow workerd's outcome list. Append only: never reorder or reuse a name.
 */
export const OUTCOMES = [
  'ok',
  'exception',
  'exceededCpu',
  'exceededMemory',
  'exceededWallTime',
  'canceled',
  'loadShed',
  'scriptNotFound',
  'responseStreamDisconnected',
  'internalError',
  'requestTooLarge',
  'responseTooLarge',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One record per invocation: the unit of metering and of the per-invocation log line. */
export interface InvocationRecord {
  requestId: string;
  worker: string;
  version: string;
  outcome: Outcome;
  status: number;
  cold: boolean;
  /** Isolate creation plus code load, on a cold start only. */
  initMs: number | null;
  /** Arrival of the request to the end of the invocation (response and waitUntil). */
  wallMs: number;
  /** CPU time of the thread while it ran this invocation's code, in microseconds. */
  cpuUs: number;
  /** cpuUs rounded up to whole milliseconds (at least 1). */
  billedMs: number;
  memoryLimitMb: number;
  /** Highest heap plus external (ArrayBuffer) memory measured in the isolate so far, in bytes; measured
   * after the isolate's first invocation and every 16th after that. */
  peakMemoryBytes: number;
  bytesIn: number;
  bytesOut: number;
  /** ISO 8601 time the request arrived (a cron trigger's event: when it started). */
  startedAt: string;
  /** Set for a cron trigger's scheduled event (its expression; status is 0); absent for a request. */
  cron?: string;
}

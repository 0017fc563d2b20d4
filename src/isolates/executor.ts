/**
 * The executor: runs tenants' isolates on one thread and turns invocations into messages.
 *
 * Duties:
 * - keep the versions the main thread sent, and their warm isolates (IsolatePool);
 * - start an invocation: get or build the isolate, enter dispatch('request') under the CPU budget
 *   (requests with no body or a UTF-8 one that arrive in the same turn enter together: request-batches.ts),
 *   or dispatch('scheduled') for a cron trigger's event;
 * - be the runtime's host: answer bridge calls (respond, error, done, timers, log);
 * - re-enter the isolate only through timed calls (timer callbacks), charging each slice's thread CPU
 *   to the invocation that caused it, so code after `await` is limited like any other;
 * - end every invocation exactly once: ok, exception, exceededCpu, exceededMemory, exceededWallTime or
 *   canceled; recycle an isolate whose slice was cut short (its globals may be half-written);
 * - give back the memory of isolates that went idle (MemoryReducer).
 */
import type { RuntimeBundle } from './runtime-bundle.ts';
import { boundAs, type Outcome, type Version } from '../types.ts';
import type { FromExecutor, InvokeMessage, RequestData, ScheduledEventData, ToExecutor } from './protocol.ts';
import { IsolaneError } from '../errors.ts';
import { Invocation } from './invocation.ts';
import { IsolatePool, type IsolatePoolOptions } from './isolate-pool.ts';
import { BridgeError, TenantIsolate } from './tenant-isolate.ts';
import { forgetVersionCache, keepCodeCacheFiles, keepOffDisk } from './code-cache.ts';
import { eagerCachesSettled } from './module-graph.ts';
import { CodeCacheFiles } from './code-cache-files.ts';
import { createEgressAgent } from '../outbound/egress-agent.ts';
import { egressPolicy } from '../outbound/egress-policy.ts';
import { WorkerCaches } from './worker-caches.ts';
import { DigestStreams } from './digest-streams.ts';
import { DEFAULT_SUBREQUEST_LIMITS, Subrequests, type SubrequestInit, type SubrequestResult } from '../outbound/subrequests.ts';
import { Agent } from 'undici';
import { LRUCache } from 'lru-cache';
import { hostCrypto } from './host-crypto.ts';
import { decodeText, decodeUtf8, encodingName, textIfUtf8 } from './host-text.ts';
import { StreamedUpload } from '../outbound/streamed-upload.ts';
import type { Readable } from 'node:stream';
import { warmRuntimeCache } from './runtime-warmup.ts';
import { isWarmupMessage, WARMUP_VERSION, warmupInvocation } from './host-path-warmup.ts';
import { SpareIsolates } from './spare-isolates.ts';
import { MemoryReducer } from './memory-reducer.ts';
import { HOST_HELD_BYTES, HostHeldBytes } from '../limits/host-held-bytes.ts';
import { threadCpuUs } from '../limits/thread-cpu.ts';
import { asPlatformWork, platformCpuUs, recentTenantCpuUs, restartWatch, sliceOverBudget, tenantCpuUs } from '../limits/watchdog.ts';
import { RequestQueues, RunningBatch, type QueuedRequest } from './request-batches.ts';
import { kvCall, MAX_KV_OPS_PER_INVOCATION } from '../kv/kv-calls.ts';
import { KvNamespaces } from '../kv/kv-namespace.ts';
import { d1DatabaseOf, D1RequestError, parseD1Request, queryCount } from '../d1/d1-calls.ts';
import { D1_LIMITS } from '../d1/d1-database.ts';
import { D1Processes, type D1Settings } from '../d1/d1-processes.ts';
import { SERVICE_CALL_HEADER, serviceCallHeader, serviceCallUrl, type ServiceCalls } from '../outbound/service-call.ts';

export type Post = (message: FromExecutor, transfer?: ArrayBuffer[]) => void;

type ServiceRoute = NonNullable<SubrequestInit['service']>;

/**
 * What an isolate's next idle upkeep does to its version's code cache: make it again from what the
 * isolate compiled (it served its version's first good request on this thread, or a deploy built a
 * version too big to remake at once), or make one of every function (a deploy built it and it has not
 * served), or leave it.
 */
type CacheUpkeep = 'remake' | 'everyFunction' | null;

/** A tenant's timer on the host: an immediate for a 0 ms one, else a timeout. */
type TimerHandle = NodeJS.Timeout | NodeJS.Immediate;

function clearTimer(handle: TimerHandle): void {
  if ('refresh' in handle) clearTimeout(handle);
  else clearImmediate(handle as NodeJS.Immediate);
}

export interface ExecutorOptions {
  pool: IsolatePoolOptions;
  /** A warm isolate unused this long gets a memory-reducing collection (0: never). */
  idleGcMs: number;
  /** Host names and addresses outbound fetch may reach although they are on the host's network. */
  fetchAllow: string[];
  /** Where compiled modules' V8 code caches are kept (code-cache-files.ts); null: in memory only. */
  codeCacheDir: string | null;
  /** Where KV namespaces are kept (src/kv/); null: no KV (a worker's calls fail). */
  kvDir?: string | null;
  /** D1's directory and limits (src/d1/); null: no D1 (a worker's calls fail). */
  d1?: D1Settings | null;
  /** How service bindings reach the data plane (src/outbound/service-call.ts); null: they fail. */
  services?: ServiceCalls | null;
  /**
   * The CPU a cold start's top-level code may use here before the invocation is handed back unrun (a
   * SlowStartMessage) to run where slow starts run; null: the full startup limit (the offload thread).
   */
  quickStartCpuMs: number | null;
}

/** Characters of source in a version's modules. */
function sourceLength(version: Version): number {
  let chars = 0;
  for (const module of version.modules) chars += module.content.length;
  return chars;
}

/** The bridge's HeaderLines (runtime/host.d.ts) as a list; anything but a string is no headers. */
function headerListFromLines(lines: unknown): string[] {
  return typeof lines === 'string' && lines !== '' ? lines.split('\n') : [];
}

/**
 * Isolates kept prepared for cold starts (spare-isolates.ts), ~1.3 MB each. Four rather than two: cold
 * starts back to back then rarely find none ready (tiny worker TTFB p50 6.7-7.5 → 5.4-5.6 ms, p90 of the
 * Hono app 16.2-16.6 → 13.7-14.0 ms; `bench/scenarios/cold-start.ts --quick`, alternated twice).
 */
const SPARE_ISOLATES = 4;
/**
 * Timers pending at once in one isolate (its invocations' together). Each is a host timer, outside the
 * isolate's memory limit: a review's 64 requests of 5,000 timers each took the serving process from
 * 115 to 304 MB, and a 128 MB isolate could have had ~1.1 million (~0.5 GB of the host's).
 */
const MAX_TIMERS_PER_ISOLATE = 10_000;
/** Granularity of the wall-time check: one shared ticker rather than a timer per invocation. */
const WALL_TICK_MS = 20;
/** How often the pool's size is reported when it changed (GET /v1/system). */
const POOL_REPORT_MS = 1000;
/** Console lines one invocation may write, and characters per line. */
const MAX_LOG_LINES = 1000;
const MAX_LOG_CHARS = 16 * 1024;
/**
 * Characters of console output per invocation (~256 KB). Within the line cap alone an invocation could
 * write 16 MB of log, every byte of it serialised twice and written by the primary, which no tenant is
 * charged for (measured: 85 ms charged for 1.3 s of the primary's CPU).
 */
const MAX_LOG_CHARS_PER_INVOCATION = 256 * 1024;
/** Connections to this server's data plane for one calling worker's service-binding calls, per thread. */
const SERVICE_CONNECTIONS_PER_WORKER = 32;
/** What a cancel says when the client went away (data-plane.ts), rather than a limit. */
const CLIENT_GONE: ReadonlySet<Outcome> = new Set<Outcome>(['canceled', 'responseStreamDisconnected']);
/** Distinct `fetch_allow` lists with an egress agent kept ready. */
const MAX_EGRESS_AGENTS = 64;
/** The most CPU an ended invocation's cancel slice (its abort listeners) may use, and the least it gets. */
const CANCEL_MAX_MS = 50;
const CANCEL_MIN_MS = 1;
/**
 * Versions up to this much source have their code cache made again: right after the deploy build, and
 * at the idle upkeep after their first good request. Making it serialises every function compiled so
 * far, on the serving thread, which holds every other tenant's requests meanwhile: ~1 ms for Hono's
 * 110 KB, 20-40 ms for a 1 MB module (a warm request's p99 in the cold-start scenario was 28-38 ms with
 * them), for little (a 1 MB data module: nothing). Bigger versions keep the cache their compile made.
 * (On isolated-vm's threads instead, its asynchronous calls would run the tenant's FinalizationRegistry
 * callbacks there, unwatched.)
 */
const RECACHE_MAX_CHARS = 256 * 1024;
/**
 * Versions with less source than this get no cache of every function (module-graph.ts,
 * saveEagerCodeCaches): their first request compiles next to nothing (a tiny worker: ~0.08 ms), and the
 * scratch isolate would cost the serving thread ~1.5 ms.
 */
const EAGER_CACHE_MIN_CHARS = 2 * 1024;
/**
 * Invocations between two heap measurements of an isolate (the first one is always measured). Reading
 * them takes isolated-vm's locking: at 16, ~1.5% of a serving process's CPU at full load.
 */
const MEASURE_EVERY = 64;
/**
 * Streamed response bytes that may wait to be written to a slow client before the runtime stops reading
 * the worker's stream: the host's buffering per response is bounded by this plus one chunk.
 */
const STREAM_HIGH_WATER_BYTES = 64 * 1024;

/** The bridge's synchronous services: the same in and outside requests. */
function serviceCall(op: 'digest' | 'randomBytes' | 'subtle' | 'decodeUtf8' | 'encodingName' | 'decodeText', args: unknown[]): unknown {
  if (op === 'decodeUtf8') return decodeUtf8(args[0], args[1]);
  if (op === 'encodingName') return encodingName(args[0]);
  if (op === 'decodeText') return decodeText(args[0], args[1], args[2], args[3]);
  return hostCrypto(op, args);
}

/** The worker's reason phrase if it is one (RFC 9112 §4: tab, space, visible and obs-text bytes), else ''. */
function reasonPhrase(value: unknown): string {
  if (value === '') return '';
  return typeof value === 'string' && value.length <= 1024 && /^[\t\x20-\x7e\x80-\xff]*$/.test(value) ? value : '';
}

/** A WebSocket close reason is at most this long in UTF-8 (RFC 6455 §5.5: a control frame's 125 bytes, less the code). */
const MAX_CLOSE_REASON_BYTES = 123;
/** The close code sent instead of one a worker may not send (RFC 6455 §7.4.1: internal error). */
const CLOSE_INTERNAL_ERROR = 1011;

/** A close code the WebSocket API lets a script send: 1000, or 3000-4999 (registered and private use). */
function isCloseCode(value: unknown): value is number {
  return value === 1000 || (Number.isInteger(value) && (value as number) >= 3000 && (value as number) <= 4999);
}

/** What the global scope may not do, as Workers says it. */
const TOP_LEVEL_REFUSED: Record<string, string> = { fetch: 'fetch()', setTimer: 'setTimeout() and setInterval()', cache: 'The Cache API', digestStream: 'crypto.DigestStream', kv: 'KV', d1: 'D1' };

/**
 * host('cache', op, cacheName, url, ...): 'put' with status, HeaderLines and body answers whether it was
 * stored; 'match' answers [status, HeaderLines, body] or null; 'delete' whether there was an entry.
 */
function cacheCall(caches: WorkerCaches, worker: string, args: unknown[]): unknown {
  const [op, cache, url, status, headers, body] = args as [string, string, string, number, string, ArrayBuffer];
  if (op === 'put') return caches.put(worker, cache, url, { status, headers, body });
  if (op === 'delete') return caches.delete(worker, cache, url);
  const found = op === 'match' ? caches.match(worker, cache, url) : null;
  return found === null ? null : [found.status, found.headers, found.body];
}

/** Console lines written so far against one cap. */
interface LogBudget {
  logLines: number;
  logChars: number;
  /** Past a cap: the notice is written, nothing more is. */
  logCut: boolean;
}

/** An isolate in service plus the host-side state the bridge needs. */
class LiveIsolate {
  readonly tenant: TenantIsolate;
  readonly worker: string;
  readonly invocations = new Set<Invocation>();
  /** Its invocations' timers by id; `due`: when it was due (performance.now(), ms). */
  readonly timers = new Map<number, { handle: TimerHandle; invocation: Invocation; due: number }>();
  /** Its 0 ms timers not yet run, in the order they were set (see #fireTimer). */
  readonly dueNow = new Set<number>();
  /** The invocation whose slice is running, to attribute timers and logs. */
  current: Invocation | null = null;
  /** Console lines written outside any invocation (top-level code), capped as one invocation's. */
  readonly outsideRequests: LogBudget;
  /** The batch of requests running in this isolate's current entry, if it is one (request-batches.ts). */
  batch: RunningBatch | null = null;
  /** Set when a slice left the isolate unfit for more work (e.g. its ArrayBuffer allocations fail). */
  poisoned = false;
  inflight = 0;
  retiring = false;
  cold = true;
  cacheUpkeep: CacheUpkeep = null;
  /** Heap statistics cost ~3 µs: read them every few invocations, and keep the highest seen. */
  peakMemoryBytes = 0;
  /** crypto.DigestStream's hashes, made on first use. */
  digestStreams: DigestStreams | null = null;
  #endsSinceMeasure = 0;

  constructor(tenant: TenantIsolate, worker: string, outsideRequests: LogBudget) {
    this.tenant = tenant;
    this.worker = worker;
    this.outsideRequests = outsideRequests;
  }

  get disposed(): boolean {
    return this.tenant.disposed;
  }

  memoryBytes(): number {
    return this.tenant.memoryBytes();
  }

  /**
   * Idle upkeep (memory-reducer.ts): first the version's code cache made again, if asked (it serialises
   * every function compiled so far: ~1 ms for Hono, ~20 ms for a 1 MB data module, so not on a request's
   * heels), with what its first request used or, if it has not served since a deploy built it, with every
   * function (on isolated-vm's threads); then a collection that gives memory back. Returns the thread
   * CPU it took, in µs.
   */
  reduceMemory(): number {
    const before = threadCpuUs();
    const upkeep = this.cacheUpkeep;
    this.cacheUpkeep = null;
    if (upkeep === 'remake') this.tenant.recacheCode();
    else if (upkeep === 'everyFunction') this.tenant.cacheEveryFunction();
    this.tenant.reduceMemory();
    return threadCpuUs() - before;
  }

  /** The isolate's highest measured memory, re-measured on every MEASURE_EVERY-th call. */
  sampleMemory(): number {
    if (this.#endsSinceMeasure-- <= 0) {
      this.#endsSinceMeasure = MEASURE_EVERY - 1;
      this.peakMemoryBytes = Math.max(this.peakMemoryBytes, this.tenant.memoryBytes());
    }
    return this.peakMemoryBytes;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimer(timer.handle);
    this.timers.clear();
    this.dueNow.clear();
    this.tenant.dispose();
  }
}

export class Executor {
  readonly #post: Post;
  readonly #runtime: RuntimeBundle;
  readonly #versions = new Map<string, Version>();
  readonly #pool: IsolatePool<LiveIsolate>;
  readonly #invocations = new Map<number, { invocation: Invocation; live: LiveIsolate }>();
  /** Invocations waiting for a spare isolate (#start), by id, with their worker: not in an isolate yet, but cancelable. */
  readonly #waitingForSpare = new Map<number, string>();
  /** What the host holds for each worker while it waits: fetches' whole bodies, queued D1 requests. */
  readonly #held = new HostHeldBytes();
  #wallTicker: NodeJS.Timeout | null = null;
  readonly #spares: SpareIsolates;
  readonly #reducer: MemoryReducer<LiveIsolate>;
  readonly #fetchAllow: string[];
  readonly #quickStartCpuMs: number | null;
  /** Versions whose cold start ran past quickStartCpuMs here: their invocations are handed back at once. */
  readonly #slowToStart = new Set<string>();
  /** Versions whose code cache has been made again after a request (TenantIsolate.recacheCode). */
  readonly #recached = new Set<string>();
  /**
   * One egress agent per distinct allowlist (most workers share the server-wide one), the most recently
   * used kept: each redeploy with another `fetch_allow` made one for good. One pushed out is not closed
   * (invocations may still hold it for their fetches): its idle connections time out and it is collected.
   */
  readonly #egress = new LRUCache<string, Agent>({ max: MAX_EGRESS_AGENTS });
  /** The Cache API's storage for the workers this executor runs. */
  readonly #caches = new WorkerCaches();
  readonly #kv: KvNamespaces | null;
  readonly #d1Settings: D1Settings | null;
  readonly #services: ServiceCalls | null;
  /**
   * For service-binding calls, to this server's own data plane (not through the egress policy): one pool
   * per calling worker, so that one worker's calls to a slow service hold its own connections only (one
   * pool for all let a worker take all 64 and stall every other tenant's calls: 13 ms → 18.7 s).
   */
  readonly #serviceAgents = new Map<string, Agent>();
  /** Started on the first D1 call. */
  #d1: D1Processes | null = null;
  readonly #queued = new RequestQueues<LiveIsolate>((live, requests) => this.#runRequests(live, requests));
  readonly #poolReport: NodeJS.Timeout;
  #closed = false;

  constructor(runtime: RuntimeBundle, options: ExecutorOptions, post: Post) {
    this.#runtime = runtime;
    this.#pool = new IsolatePool<LiveIsolate>(options.pool);
    this.#fetchAllow = options.fetchAllow;
    this.#quickStartCpuMs = options.quickStartCpuMs;
    // The host path's own warm-up invocation (host-path-warmup.ts) answers nobody; it unloads when it ends.
    this.#post = (message, transfer) => {
      if (!isWarmupMessage(message)) post(message, transfer);
      else if (message.t === 'end') this.handle({ t: 'unload', versionId: WARMUP_VERSION.id });
    };
    keepCodeCacheFiles(options.codeCacheDir ? new CodeCacheFiles(options.codeCacheDir) : null);
    this.#kv = options.kvDir ? new KvNamespaces(options.kvDir) : null;
    this.#d1Settings = options.d1 ?? null;
    this.#services = options.services ?? null;
    warmRuntimeCache(runtime);
    this.#spares = new SpareIsolates(runtime, SPARE_ISOLATES);
    keepOffDisk(WARMUP_VERSION.id);
    this.handle({ t: 'load', version: WARMUP_VERSION });
    this.handle(warmupInvocation());
    this.#reducer = new MemoryReducer<LiveIsolate>(options.idleGcMs, (cpuUs) => this.#post({ t: 'memoryReduced', cpuUs }));
    // The pool's size for the process's stats (it changes on cold starts, evictions and idle expiry), and
    // the CPU this thread spent on the platform's work inside slices, which no tenant was charged.
    let reported = { warm: 0, evicted: 0, platformCpuUs: 0 };
    this.#poolReport = setInterval(() => {
      const now = { warm: this.#pool.size, evicted: this.#pool.evicted, platformCpuUs: platformCpuUs() };
      if (now.warm === reported.warm && now.evicted === reported.evicted && now.platformCpuUs === reported.platformCpuUs) return;
      reported = now;
      this.#post({ t: 'pool', ...now });
    }, POOL_REPORT_MS).unref();
  }

  handle(message: ToExecutor): void {
    switch (message.t) {
      case 'load':
        this.#versions.set(message.version.id, message.version);
        return;
      case 'unload':
        this.#versions.delete(message.versionId);
        this.#pool.remove(message.versionId);
        forgetVersionCache(message.versionId);
        this.#recached.delete(message.versionId);
        this.#slowToStart.delete(message.versionId);
        return;
      case 'forgetWorker':
        this.#forgetWorker(message.worker);
        return;
      case 'invoke':
        this.#invoke(message);
        return;
      case 'cancel': {
        const entry = this.#invocations.get(message.id);
        if (entry && CLIENT_GONE.has(message.outcome)) this.#clientGone(entry.live, entry.invocation, message.outcome);
        else if (entry) this.#end(entry.live, entry.invocation, message.outcome);
        else if (this.#waitingForSpare.delete(message.id)) this.#notStarted(message.id, message.outcome);
        return;
      }
      case 'requestBody':
      case 'requestBodyError': {
        const entry = this.#invocations.get(message.id);
        if (!entry || entry.live.tenant.disposed) return;
        this.#slice(entry.live, entry.invocation, message.t === 'requestBody' ? ['bodyChunk', message.id, message.chunk] : ['bodyError', message.id, message.message]);
        return;
      }
      case 'wsMessage':
      case 'wsClosed': {
        const entry = this.#invocations.get(message.id);
        if (!entry || !entry.invocation.webSocket || entry.live.tenant.disposed) return;
        const { invocation, live } = entry;
        if (message.t === 'wsClosed') {
          // Work left after the close (waitUntil) gets the worker's wall-time limit again, from now: a
          // socket has none while it is open, and an invocation that waited on nothing forever never ended.
          invocation.deadline = Math.min(invocation.deadline, Date.now() + live.tenant.version.limits.wallMs);
          this.#slice(live, invocation, ['wsClosed', message.id, message.code, message.reason, message.wasClean]);
          return;
        }
        // As on Workers, each message the client sends may use the worker's CPU limit anew.
        invocation.cpuLimitUs = invocation.cpuUs + live.tenant.version.limits.cpuMs * 1000;
        this.#slice(live, invocation, ['wsMessage', message.id, message.data], message.data instanceof ArrayBuffer);
        return;
      }
      case 'ack': {
        const entry = this.#invocations.get(message.id);
        if (!entry) return;
        const { invocation, live } = entry;
        invocation.unackedBytes -= message.bytes;
        if (invocation.paused && invocation.unackedBytes < STREAM_HIGH_WATER_BYTES && !live.tenant.disposed) {
          invocation.paused = false;
          this.#slice(live, invocation, ['pull', invocation.id]);
        }
        return;
      }
      case 'validate':
        this.#validate(message.jobId, message.versionId, message.startupCpuMs);
        return;
      case 'shutdown':
        this.close();
        return;
    }
  }

  /**
   * The worker is deleted: what of it still runs (waitUntil work, WebSockets, requests under way) ends now,
   * canceled. Left running, it shared by name the Cache API, logs and usage of a new worker created under
   * the same name (the old one's waitUntil wrote an entry the new one read).
   */
  #forgetWorker(worker: string): void {
    for (const { live, invocation } of [...this.#invocations.values()]) if (live.worker === worker) this.#end(live, invocation, 'canceled');
    for (const [id, waitingWorker] of this.#waitingForSpare) {
      if (waitingWorker !== worker) continue;
      this.#waitingForSpare.delete(id);
      this.#notStarted(id, 'canceled');
    }
    this.#caches.forgetWorker(worker);
    void this.#serviceAgents.get(worker)?.close();
    this.#serviceAgents.delete(worker);
  }

  /** Ends everything; resolves once no spare isolate is still being prepared (see SpareIsolates.close). */
  close(): Promise<void> {
    this.#closed = true;
    for (const { live, invocation } of this.#invocations.values()) this.#end(live, invocation, 'canceled');
    if (this.#wallTicker) clearInterval(this.#wallTicker);
    clearInterval(this.#poolReport);
    this.#pool.close();
    const spares = this.#spares.close();
    this.#reducer.close();
    for (const agent of this.#egress.values()) void agent.close();
    this.#kv?.close();
    void this.#d1?.close();
    for (const agent of this.#serviceAgents.values()) void agent.close();
    return Promise.all([spares, eagerCachesSettled()]).then(() => {});
  }

  #build(version: Version, startupCpuMs?: number, remakeCache = false): LiveIsolate {
    let live: LiveIsolate | null = null;
    const outsideRequests: LogBudget = { logLines: 0, logChars: 0, logCut: false };
    // The top-level code runs inside create(), before `live` exists.
    const onHostCall = (op: string, args: unknown[]) => (live === null ? this.#onTopLevelCall(version.worker, outsideRequests, op, args) : this.#onHostCall(live, op, args));
    const tenant = TenantIsolate.create(version, this.#runtime, onHostCall, this.#spares.take(version.limits.memoryMb), startupCpuMs, remakeCache);
    live = new LiveIsolate(tenant, version.worker, outsideRequests);
    return live;
  }

  /**
   * A bridge call from a version's top-level code: there is no request yet. Console lines and the
   * synchronous services work; I/O and timers throw, as on Workers; calls about invocations find none.
   */
  #onTopLevelCall(worker: string, budget: LogBudget, op: string, args: unknown[]): unknown {
    switch (op) {
      case 'log':
        this.#log(worker, budget, null, args[0] as string, args[1]);
        return;
      case 'digest':
      case 'randomBytes':
      case 'subtle':
      case 'decodeUtf8':
      case 'encodingName':
      case 'decodeText':
        return serviceCall(op, args);
      case 'fetch':
      case 'setTimer':
      case 'cache':
      case 'digestStream':
      case 'kv':
      case 'd1':
        throw new BridgeError(`${TOP_LEVEL_REFUSED[op]} cannot be called in the global scope: only while handling a request`);
      default:
        return;
    }
  }

  #validate(jobId: number, versionId: string, startupCpuMs?: number): void {
    const version = this.#versions.get(versionId);
    if (!version) {
      this.#post({ t: 'validated', jobId, error: { code: 'ISO_ERR_DEPLOY_STARTUP', message: 'version was not loaded' }, syntax: null, initMs: null });
      return;
    }
    try {
      // A cache made at compile time holds little more than the top-level code. Made again once the
      // top-level code ran, it holds what that code called too (Hono's router and middleware setup: the
      // next isolate of the version starts ~0.7 ms sooner), for cold starts after a restart or an eviction.
      // The cost grows with the code (Hono's 110 KB: ~1 ms; a 1 MB data module: 34 ms, for nothing), so a
      // bigger version's is not made again (RECACHE_MAX_CHARS).
      const chars = sourceLength(version);
      const remake = chars <= RECACHE_MAX_CHARS;
      const live = this.#build(version, startupCpuMs, remake);
      // A cold start after a restart or an eviction, before the version has served, compiles the functions
      // its first request calls: its deploy's isolate, idle, leaves a cache of every function for it.
      if (live.tenant.modulesFromSource > 0 && remake && chars >= EAGER_CACHE_MIN_CHARS) live.cacheUpkeep = 'everyFunction';
      // Deploy warms the isolate: the first request to the new version finds it ready.
      live.cold = false;
      if (this.#pool.add(versionId, live)) this.#reducer.idle(live);
      else live.dispose(); // bigger than the pool's whole memory bound: each request will build its own
      this.#post({ t: 'validated', jobId, error: null, syntax: live.tenant.syntax, initMs: live.tenant.initMs });
    } catch (err) {
      const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_DEPLOY_STARTUP', String(err));
      const code = error.code === 'ISO_ERR_DEPLOY_SYNTAX' || error.code === 'ISO_ERR_DEPLOY_NO_HANDLER' || error.code === 'ISO_ERR_DEPLOY_MODULE_MISSING' ? error.code : 'ISO_ERR_DEPLOY_STARTUP';
      this.#post({ t: 'validated', jobId, error: { code, message: error.message, details: error.details }, syntax: null, initMs: null });
    }
  }

  #invoke(message: InvokeMessage): void {
    const version = this.#versions.get(message.versionId);
    const invocation = new Invocation(message.id, message.requestId, message.deadline, version?.limits.cpuMs ?? 0);
    if ('serviceDepth' in message.request) {
      invocation.serviceDepth = message.request.serviceDepth ?? 0;
      invocation.serviceRoot = message.request.serviceRoot ?? invocation.requestId;
    }
    if (!version) {
      this.#notStarted(message.id, 'scriptNotFound');
      return;
    }
    this.#start(version, invocation, message.request);
  }

  /** Ends an invocation that never entered an isolate. */
  #notStarted(id: number, outcome: Outcome): void {
    this.#post({ t: 'failure', id, outcome });
    this.#post({ t: 'end', id, outcome, cold: false, initMs: null, cpuUs: 0, memoryBytes: 0 });
  }

  /**
   * Runs `invocation` in the version's warm isolate, or in one built now: from a spare, after waiting
   * for one being prepared if none is ready (built here only for a memory limit spares are not made for).
   */
  #start(version: Version, invocation: Invocation, request: RequestData | ScheduledEventData, buildInPlace = false): void {
    const { id } = invocation;
    let live = this.#pool.get(version.id);
    if (!live || live.tenant.disposed) {
      if (this.#slowToStart.has(version.id)) {
        this.#post({ t: 'slowStart', id });
        return;
      }
      const preparing = buildInPlace || this.#spares.ready(version.limits.memoryMb) ? null : this.#spares.preparing(version.limits.memoryMb);
      if (preparing) {
        this.#waitingForSpare.set(id, version.worker);
        void preparing.then((prepared) => {
          if (!this.#waitingForSpare.delete(id)) return; // canceled while it waited
          // A preparation that failed would fail again: this start builds its own.
          if (!this.#closed) this.#start(version, invocation, request, !prepared);
          else this.#notStarted(id, 'canceled');
        });
        return;
      }
      // A start that fails is charged to the request that asked for it: its top-level code ran, and
      // without a warm isolate left behind the next request runs it again.
      const buildStartUs = tenantCpuUs();
      try {
        live = this.#build(version, this.#quickStartCpuMs ?? undefined);
      } catch (err) {
        if (err instanceof IsolaneError && this.#quickStartCpuMs !== null && err.details?.startupCpuMs === this.#quickStartCpuMs) {
          // Top-level code that computes: not on this thread, where it holds up every other tenant.
          this.#slowToStart.add(version.id);
          this.#post({ t: 'slowStart', id });
          return;
        }
        const text = err instanceof Error ? err.message : String(err);
        this.#post({ t: 'log', worker: version.worker, requestId: invocation.requestId, level: 'error', message: `worker failed to start: ${text}` });
        this.#post({ t: 'failure', id, outcome: 'exception' });
        this.#post({ t: 'end', id, outcome: 'exception', cold: true, initMs: null, cpuUs: tenantCpuUs() - buildStartUs, memoryBytes: 0 });
        return;
      }
      if (this.#versions.get(version.id) !== version) this.#retireUnloaded(live);
      // Bigger than the pool's whole memory bound: it serves this request and goes (each is a cold start).
      else if (!this.#pool.add(version.id, live)) live.retiring = true;
    }
    if (live.cold) {
      live.cold = false;
      invocation.cold = true;
      invocation.initMs = live.tenant.initMs;
    }
    live.inflight++;
    this.#reducer.busy(live);
    live.invocations.add(invocation);
    this.#invocations.set(id, { invocation, live });
    this.#ensureWallTicker();
    if ('cron' in request) {
      // Nothing goes back to a client: only a failure, which ends the invocation with its outcome.
      invocation.responded = true;
      this.#slice(live, invocation, ['scheduled', id, request.scheduledTime, request.cron], false);
      return;
    }
    const { method, url, headers } = request;
    const body = request.body instanceof ArrayBuffer ? textIfUtf8(request.body) : request.body;
    if (body === null || (typeof body === 'string' && body !== 'stream')) {
      invocation.queued = { invocation, method, url, headers, body };
      this.#queued.add(live, invocation.queued);
      return;
    }
    // Strings and numbers cross as they are; only a body's bytes need isolated-vm's copy (~3 µs a call).
    this.#slice(live, invocation, ['request', id, method, url, headers, body], body instanceof ArrayBuffer);
  }

  /**
   * An isolate built for a version unloaded since its request was routed to it (a redeploy while the
   * request waited for a spare, or moved from a recycled isolate): it serves the requests already sent
   * to that version, as the old version's warm isolate would have, then goes; what its compile kept of
   * the version's code cache goes now.
   */
  #retireUnloaded(live: LiveIsolate): void {
    live.retiring = true;
    forgetVersionCache(live.tenant.version.id);
  }

  /** Requests queued for `live` this turn: one entry for all of them (request-batches.ts). */
  #runRequests(live: LiveIsolate, queued: QueuedRequest[]): void {
    // Not those ended meanwhile, nor those moved to another isolate (#sliceFailed).
    const requests = queued.filter((request) => request.invocation.queued === request && !request.invocation.ended);
    if (requests.length === 0) return;
    for (const { invocation } of requests) invocation.queued = null;
    if (requests.length === 1 || live.tenant.disposed) {
      for (const request of requests) this.#runRequest(live, request);
      return;
    }
    const args: (string | number | null)[] = ['requests'];
    for (const { invocation, method, url, headers, body } of requests) args.push(invocation.id, method, url, headers, body);
    const startUs = tenantCpuUs();
    const batch = new RunningBatch(requests, startUs);
    const first = requests[0]!.invocation;
    live.batch = batch;
    live.current = first;
    const result = live.tenant.enter(args, first.remainingCpuMs, false, startUs);
    live.batch = null;
    live.current = null;
    const last = batch.finish(startUs + result.cpuUs);
    const notStarted = batch.notStarted().filter(({ invocation }) => !invocation.ended);
    const failed = result.failure !== null && result.failure !== 'uncaught';
    if (result.failure === 'uncaught') {
      this.#logUncaught(live, last, result.error);
    }
    if (failed || live.poisoned) {
      // Those the batch had not started never ran in this isolate: they start again in another one
      // rather than end with it (a slice cut short) or fail in it (an isolate unfit for more work).
      for (const { invocation } of notStarted) this.#detach(live, invocation);
      // The request running when the slice was stopped is the culprit.
      if (failed) this.#sliceFailed(live, last, result.failure as Outcome);
      else this.#pool.remove(live.tenant.version.id, live);
      for (const { invocation, method, url, headers, body } of notStarted) this.#start(live.tenant.version, invocation, { method, url, headers, body });
      if (failed) return;
    }
    for (const { invocation } of requests) {
      if (!invocation.ended && invocation.remainingCpuMs < 0) this.#end(live, invocation, 'exceededCpu');
    }
    if (live.poisoned) return;
    // The rest run one by one, marked as not run here yet: if one of them is cut short, those after it
    // start in another isolate (#sliceFailed) rather than end with this one.
    for (const request of notStarted) request.invocation.queued = request;
    for (const request of notStarted) {
      if (request.invocation.queued !== request) continue;
      request.invocation.queued = null;
      this.#runRequest(live, request);
    }
  }

  #runRequest(live: LiveIsolate, { invocation, method, url, headers, body }: QueuedRequest): void {
    if (invocation.ended) return;
    if (live.tenant.disposed) this.#end(live, invocation, 'canceled');
    else this.#slice(live, invocation, ['request', invocation.id, method, url, headers, body], false);
  }

  /** One timed entry into the isolate on behalf of `invocation`. */
  #slice(live: LiveIsolate, invocation: Invocation, args: unknown[], copy = true): void {
    if (invocation.remainingCpuMs <= 0) {
      this.#end(live, invocation, 'exceededCpu');
      return;
    }
    // Restored after, not cleared: a slice can run inside another's host call (a fetch's answer).
    const outer = live.current;
    live.current = invocation;
    const result = live.tenant.enter(args, invocation.remainingCpuMs, copy);
    live.current = outer;
    invocation.cpuUs += result.cpuUs;
    if (result.failure === 'uncaught') {
      this.#logUncaught(live, invocation, result.error);
    } else if (result.failure) this.#sliceFailed(live, invocation, result.failure);
    if (invocation.ended) return;
    if (live.poisoned) this.#pool.remove(live.tenant.version.id, live);
    else if (!invocation.ended && invocation.remainingCpuMs < 0) this.#end(live, invocation, 'exceededCpu');
  }

  /** A promise rejection left unhandled in a slice (isolated-vm rethrows it): the tenant's log line, not a failure. */
  #logUncaught(live: LiveIsolate, invocation: Invocation, error: string | undefined): void {
    this.#log(live.worker, invocation, invocation.requestId, 'error', `Uncaught (in promise) ${error}`);
  }

  /** A slice was cut short: the culprit gets the outcome, the isolate is recycled, the others on it end. */
  #sliceFailed(live: LiveIsolate, culprit: Invocation, outcome: Outcome): void {
    this.#pool.remove(live.tenant.version.id, live);
    this.#end(live, culprit, outcome);
    const bystanderOutcome: Outcome = outcome === 'exceededMemory' ? 'exceededMemory' : 'canceled';
    const waiting: QueuedRequest[] = [];
    for (const other of [...live.invocations]) {
      if (other.queued) {
        // Not run here yet (queued for the end of the turn): it starts in another isolate.
        waiting.push(other.queued);
        other.queued = null;
        this.#detach(live, other);
      } else if (!other.finished) {
        // Those the runtime was done with (earlier requests of a batch) end as they are, just after.
        this.#end(live, other, bystanderOutcome);
      }
    }
    for (const { invocation, method, url, headers, body } of waiting) this.#start(live.tenant.version, invocation, { method, url, headers, body });
  }

  #onHostCall(live: LiveIsolate, op: string, args: unknown[]): unknown {
    switch (op) {
      case 'digest':
      case 'randomBytes':
      case 'subtle':
      case 'decodeUtf8':
      case 'encodingName':
      case 'decodeText':
        return serviceCall(op, args);
      case 'respond': {
        const [id, status, lines, body, done, statusText] = args as [number, number, string, ArrayBuffer | string | null, boolean, unknown];
        // One reading of the tenant clock serves the limit check and, with `done`, the batch's boundary:
        // most requests answer and finish in this one call.
        const nowUs = recentTenantCpuUs();
        this.#respond(live, id, status, reasonPhrase(statusText), lines, body, nowUs);
        return done === true ? this.#done(live, id, nowUs) : undefined;
      }
      case 'respondStream': {
        const [id, status, lines, statusText] = args as [number, number, string, unknown];
        const headers = headerListFromLines(lines);
        const invocation = this.#invocationIn(live, id);
        if (!invocation || invocation.responded || invocation.ended) return;
        invocation.responded = true;
        invocation.streaming = true;
        this.#post({ t: 'response', id, status, statusText: reasonPhrase(statusText), headers, body: null, streamed: true });
        return;
      }
      case 'respondWebSocket': {
        const [id, lines] = args as [number, string];
        const invocation = this.#invocationIn(live, id);
        if (!invocation || invocation.responded || invocation.ended) return;
        invocation.responded = true;
        invocation.webSocket = true;
        // A WebSocket lasts as long as its client keeps it: no wall-time limit from here.
        invocation.deadline = Infinity;
        this.#post({ t: 'response', id, status: 101, statusText: '', headers: headerListFromLines(lines), body: null, streamed: false, webSocket: true });
        return;
      }
      case 'wsSend': {
        const [id, data] = args as [number, string | ArrayBuffer];
        const invocation = this.#invocationIn(live, id);
        if (!invocation || !invocation.webSocket || invocation.ended) return;
        if (typeof data !== 'string' && !(data instanceof ArrayBuffer)) return;
        this.#post({ t: 'wsSend', id, data }, data instanceof ArrayBuffer ? [data] : undefined);
        return;
      }
      case 'wsClose': {
        const [id, code, reason] = args as [unknown, unknown, unknown];
        const invocation = typeof id === 'number' ? this.#invocationIn(live, id) : undefined;
        if (!invocation || !invocation.webSocket || invocation.ended) return;
        // The runtime's close() checks both as the WebSocket API does; a worker that tampered with the
        // runtime can still send anything here, and the data plane's ws throws on what it would not send.
        if (isCloseCode(code) && typeof reason === 'string' && Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) this.#post({ t: 'wsClose', id: invocation.id, code, reason });
        else this.#post({ t: 'wsClose', id: invocation.id, code: CLOSE_INTERNAL_ERROR, reason: '' });
        return;
      }
      case 'chunk': {
        const [id, chunk] = args as [number, ArrayBuffer];
        const invocation = this.#invocationIn(live, id);
        if (!invocation || !invocation.streaming || invocation.ended || !(chunk instanceof ArrayBuffer)) return false;
        invocation.bytesOut += chunk.byteLength;
        const limit = live.tenant.version.limits.responseBytes;
        if (invocation.bytesOut > limit) {
          invocation.failure = 'responseTooLarge';
          this.#post({ t: 'log', worker: live.worker, requestId: invocation.requestId, level: 'error', message: `response body cut short: it is larger than the worker's response_bytes limit of ${limit} bytes` });
          this.#post({ t: 'failure', id, outcome: 'responseTooLarge' });
          // Ending runs after this slice returns: the runtime is still on the stack.
          queueMicrotask(() => this.#end(live, invocation, 'responseTooLarge'));
          return false;
        }
        invocation.unackedBytes += chunk.byteLength;
        this.#post({ t: 'chunk', id, chunk }, [chunk]);
        if (invocation.unackedBytes < STREAM_HIGH_WATER_BYTES) return true;
        invocation.paused = true;
        return false;
      }
      case 'endBody': {
        const id = args[0] as number;
        const invocation = this.#invocationIn(live, id);
        if (!invocation || !invocation.streaming || invocation.ended) return;
        invocation.streaming = false;
        this.#post({ t: 'bodyEnd', id });
        return;
      }
      case 'fetchAbort': {
        const fetchId = args[0] as number;
        for (const invocation of live.invocations) if (invocation.subrequests?.cancel(fetchId)) return;
        return;
      }
      case 'fetchUpload':
      case 'fetchUploadEnd': {
        const fetchId = args[0] as number;
        const uploads = this.#fetchOwner(live, fetchId, 'uploads')?.subrequests!.uploads;
        const upload = uploads?.get(fetchId);
        if (!upload) return false;
        if (op === 'fetchUpload') return args[1] instanceof ArrayBuffer ? upload.push(args[1]) : false;
        uploads!.delete(fetchId);
        upload.end(String(args[1] ?? ''));
        return;
      }
      case 'pullFetchBody': {
        const fetchId = args[0] as number;
        const owner = this.#fetchOwner(live, fetchId, 'fetchedBodies');
        if (owner) this.#pullFetched(live, owner, fetchId);
        return;
      }
      case 'pullBody': {
        const id = args[0] as number;
        const invocation = this.#invocationIn(live, id);
        if (invocation && !invocation.ended) this.#post({ t: 'pullBody', id });
        return;
      }
      case 'error': {
        const [id, message, stack] = args as [number, string, string];
        const invocation = this.#invocationIn(live, id);
        if (!invocation || invocation.ended) return;
        this.#log(live.worker, invocation, invocation.requestId, 'error', stack || message);
        // isolated-vm refuses large ArrayBuffer allocations over the memory limit with a RangeError
        // instead of disposing the isolate: uncaught, it is the memory limit that ended the invocation.
        const outOfMemory = /Array buffer allocation failed/.test(message);
        if (outOfMemory) live.poisoned = true;
        invocation.failure ??= outOfMemory ? 'exceededMemory' : 'exception';
        if (!invocation.responded || invocation.streaming) {
          // Before a response: the error page. During a streamed body: the response is cut short.
          invocation.responded = true;
          invocation.streaming = false;
          this.#post({ t: 'failure', id, outcome: invocation.failure });
        }
        return;
      }
      case 'done':
        return this.#done(live, args[0] as number);
      case 'setTimer': {
        const [timerId, delayMs] = args as [number, number];
        const invocation = live.current;
        // Timers armed outside an invocation (top-level code) never fire, as on Workers.
        if (!invocation || invocation.ended) return;
        // Each is a host timer (~0.5 KB of this process's memory against ~0.1 KB in the isolate).
        if (live.timers.size >= MAX_TIMERS_PER_ISOLATE) throw new BridgeError(`too many timers: at most ${MAX_TIMERS_PER_ISOLATE} may be pending at once`);
        const delay = Math.min(Math.max(0, Number(delayMs) || 0), 2 ** 31 - 1);
        // Node makes a 0 ms timeout 1 ms, and the next turn after that: `await scheduler.wait(0)` or a
        // setTimeout(fn, 0) cost a request ~2.3 ms of latency. An immediate runs at the end of this turn.
        const fire = () => this.#fireTimer(live, timerId);
        const handle = delay === 0 ? setImmediate(fire) : setTimeout(fire, delay);
        live.timers.set(timerId, { handle, invocation, due: performance.now() + delay });
        if (delay === 0) live.dueNow.add(timerId);
        invocation.timers.add(timerId);
        return;
      }
      case 'clearTimer': {
        const timer = live.timers.get(args[0] as number);
        if (!timer) return;
        clearTimer(timer.handle);
        live.timers.delete(args[0] as number);
        live.dueNow.delete(args[0] as number);
        timer.invocation.timers.delete(args[0] as number);
        return;
      }
      case 'cache':
        return cacheCall(this.#caches, live.worker, args);
      case 'kv': {
        const invocation = live.current;
        if (!invocation || invocation.ended) return ['KV can only be used while handling a request', '', null];
        if (this.#kv === null) return ['KV is not available on this server', '', null];
        if (++invocation.kvOps > MAX_KV_OPS_PER_INVOCATION) return [`a request may make at most ${MAX_KV_OPS_PER_INVOCATION} KV operations`, '', null];
        return kvCall(this.#kv, live.tenant.version, args);
      }
      case 'digestStream':
        return (live.digestStreams ??= new DigestStreams()).call(args);
      case 'd1':
        return this.#d1Call(live, args);
      case 'fetch': {
        const [fetchId, method, url, headers, sent, mode, binding] = args as [number, string, string, string[], ArrayBuffer | string | null, unknown, unknown];
        const redirect = mode === 'manual' || mode === 'error' ? mode : 'follow';
        const invocation = live.current;
        if (!invocation || invocation.ended) return;
        let service: ServiceRoute | null = null;
        if (typeof binding === 'string' && binding !== '') {
          const route = this.#serviceRoute(live.tenant.version, binding, url, invocation);
          if (typeof route === 'string') {
            // Answered after the call returns: the runtime is on the stack.
            queueMicrotask(() => this.#fetched(live, invocation, fetchId, { ok: false, name: 'TypeError', message: route }));
            return;
          }
          service = route;
        }
        // A whole body is a copy the host holds until the fetch is answered: the worker's share bounds them.
        const bodyBytes = sent instanceof ArrayBuffer ? sent.byteLength : typeof sent === 'string' && sent !== 'stream' ? sent.length : 0;
        if (!this.#held.hold(live.worker, bodyBytes)) {
          const message = `fetch failed: the worker's request bodies and D1 queries waiting in this server would pass ${HOST_HELD_BYTES / 1024 / 1024} MiB`;
          queueMicrotask(() => this.#fetched(live, invocation, fetchId, { ok: false, name: 'TypeError', message }));
          return;
        }
        if (bodyBytes > 0) (invocation.heldFetchBodies ??= new Map()).set(fetchId, bodyBytes);
        const start = () => {
          const subrequests = (invocation.subrequests ??= new Subrequests(this.#egressFor(live.tenant.version), DEFAULT_SUBREQUEST_LIMITS));
          let body: ArrayBuffer | string | Readable | null = sent;
          if (sent === 'stream') {
            // Entered later, never from inside this call: the runtime is on the stack.
            const upload = new StreamedUpload(() => queueMicrotask(() => !invocation.ended && !live.tenant.disposed && this.#slice(live, invocation, ['fetchPull', fetchId])));
            subrequests.uploads.set(fetchId, upload);
            body = upload.readable;
          }
          const init: SubrequestInit = service ? { method, url, headers, body, redirect, service } : { method, url, headers, body, redirect };
          subrequests.run(fetchId, init, (result) => this.#fetched(live, invocation, fetchId, result));
        };
        // Setting a subrequest up is the platform's work, as sending it is (Subrequests.run): the first
        // in a process built the egress agent and compiled the host's fetch path inside whichever
        // tenant's slice asked (1.2-1.9 ms); later, ~16 µs for an invocation's first, a few for the next.
        // A call past the subrequest limit is refused at once, and stays the tenant's: a loop of them
        // gains nothing.
        if (invocation.subrequests?.full) start();
        else asPlatformWork(start);
        return;
      }
      case 'log': {
        const [level, message] = args as [string, string];
        const invocation = live.current;
        if (invocation) this.#log(live.worker, invocation, invocation.requestId, level, message);
        else this.#log(live.worker, live.outsideRequests, null, level, message);
        return;
      }
    }
  }

  /** Where a fetch through service binding `binding` goes (src/outbound/service-call.ts), or why it cannot. */
  #serviceRoute(version: Version, binding: string, url: string, invocation: Invocation): ServiceRoute | string {
    const worker = boundAs(version.bindings, binding, 'service')?.service;
    if (!worker) return `no service is bound as ${binding}`;
    if (this.#services === null) return 'service bindings are not available on this server';
    const href = serviceCallUrl(url);
    // As workerd says it: only http(s) reaches a worker.
    if (href === null) return `Fetch API cannot load: ${url}`;
    const call = { worker, depth: invocation.serviceDepth + 1, root: invocation.serviceRoot };
    const token = this.#services.token;
    // Bounded like any agent to one origin: a tree of calls waits for connections rather than taking thousands.
    let agent = this.#serviceAgents.get(version.worker);
    if (!agent) this.#serviceAgents.set(version.worker, (agent = new Agent({ connections: SERVICE_CONNECTIONS_PER_WORKER })));
    // Each hop of a redirect goes to the bound worker with its own URL (subrequests.ts checks it is http(s)).
    return { dispatcher: agent, origin: this.#services.origin, header: (to) => [SERVICE_CALL_HEADER, serviceCallHeader(token, { ...call, url: serviceCallUrl(to) ?? href })] };
  }

  /**
   * A D1 call: '' once it is under way (its answer enters the isolate later, as a slice of the
   * invocation that made it, like a fetch's), or why it is refused at once.
   */
  #d1Call(live: LiveIsolate, args: unknown[]): string {
    const [callId, binding, requestJson] = args as [number, unknown, unknown];
    const invocation = live.current;
    if (!invocation || invocation.ended) return 'D1 can only be used while handling a request';
    if (this.#d1Settings === null) return 'D1 is not available on this server';
    const database = d1DatabaseOf(live.tenant.version, String(binding));
    if (database === null) return `no D1 database is bound as ${String(binding)}`;
    let request;
    try {
      request = parseD1Request(String(requestJson));
    } catch (error) {
      if (error instanceof D1RequestError) return error.message;
      throw error;
    }
    invocation.d1Queries += queryCount(request);
    if (invocation.d1Queries > D1_LIMITS.queriesPerInvocation) return `a request may run at most ${D1_LIMITS.queriesPerInvocation} D1 queries`;
    // The parsed request waits in the host until its database's queue reaches it, even past its invocation.
    const bytes = String(requestJson).length;
    if (!this.#held.hold(live.worker, bytes)) return `the worker's D1 queries and request bodies waiting in this server would pass ${HOST_HELD_BYTES / 1024 / 1024} MiB`;
    this.#d1 ??= new D1Processes(this.#d1Settings);
    void this.#d1
      .query(database, request, invocation.deadline)
      .finally(() => this.#held.release(live.worker, bytes))
      .then((json) => {
        if (!invocation.ended && !live.tenant.disposed) this.#slice(live, invocation, ['d1Result', callId, json]);
      });
    return '';
  }

  #egressFor(version: Version): Agent {
    const allow = version.fetchAllow ? [...this.#fetchAllow, ...version.fetchAllow] : this.#fetchAllow;
    const key = allow.join(' ');
    let agent = this.#egress.get(key);
    if (!agent) {
      agent = createEgressAgent({ policy: egressPolicy(allow) });
      this.#egress.set(key, agent);
    }
    return agent;
  }

  /** A subrequest answered: its result enters the isolate as a slice of the invocation that made it. */
  #fetched(live: LiveIsolate, invocation: Invocation, fetchId: number, result: SubrequestResult): void {
    const held = invocation.heldFetchBodies?.get(fetchId);
    if (held !== undefined) {
      invocation.heldFetchBodies!.delete(fetchId);
      this.#held.release(live.worker, held);
    }
    if (invocation.ended || live.tenant.disposed) return;
    if (!result.ok) {
      this.#slice(live, invocation, ['fetchError', fetchId, result.name, result.message]);
      return;
    }
    let body: ArrayBuffer | string | null | 'stream';
    if (result.body === null) body = null;
    else if (result.body instanceof ArrayBuffer) body = textIfUtf8(result.body);
    else {
      invocation.subrequests!.fetchedBodies.set(fetchId, result.body);
      body = 'stream';
    }
    this.#slice(live, invocation, ['fetchResult', fetchId, result.status, result.headers, body, [result.statusText, result.url, result.redirected ? '1' : '']]);
  }

  /** Invocation `id` if it runs in `live`: an isolate never reaches another's invocations, even by a guessed id. */
  #invocationIn(live: LiveIsolate, id: number): Invocation | undefined {
    const entry = this.#invocations.get(id);
    return entry?.live === live ? entry.invocation : undefined;
  }

  /**
   * A line of the tenant's (console, uncaught errors): a flood costs the host (every line is a log record),
   * so at most MAX_LOG_LINES and MAX_LOG_CHARS_PER_INVOCATION per invocation, or per isolate outside one
   * (top-level code), each line cut at MAX_LOG_CHARS.
   */
  #log(worker: string, budget: LogBudget, requestId: string | null, level: string, message: unknown): void {
    if (budget.logCut) return;
    if (budget.logLines >= MAX_LOG_LINES || budget.logChars >= MAX_LOG_CHARS_PER_INVOCATION) {
      // The first line over either cap: one notice, then nothing more.
      budget.logCut = true;
      const whose = requestId === null ? 'outside requests' : 'of this invocation';
      const after = budget.logLines >= MAX_LOG_LINES ? `${MAX_LOG_LINES} lines` : `${MAX_LOG_CHARS_PER_INVOCATION / 1024} KB`;
      this.#post({ t: 'log', worker, requestId, level: 'warn', message: `console output ${whose} truncated after ${after}` });
      return;
    }
    budget.logLines++;
    const text = String(message);
    const line = text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}… (truncated)` : text;
    budget.logChars += line.length;
    this.#post({ t: 'log', worker, requestId, level, message: line });
  }

  #respond(live: LiveIsolate, id: number, status: number, statusText: string, lines: string, body: ArrayBuffer | string | null, nowUs: number): void {
    const invocation = this.#invocationIn(live, id);
    if (!invocation || invocation.responded || invocation.ended) return;
    // Over its limit already: the slice ends exceededCpu, and its answer must not go out as a success.
    if (sliceOverBudget(nowUs)) {
      invocation.failure = 'exceededCpu';
      return;
    }
    invocation.responded = true;
    invocation.bytesOut = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (invocation.bytesOut > live.tenant.version.limits.responseBytes) {
      invocation.failure = 'responseTooLarge';
      this.#post({ t: 'failure', id, outcome: 'responseTooLarge' });
      return;
    }
    const headers = headerListFromLines(lines);
    this.#post({ t: 'response', id, status, statusText, headers, body, streamed: false }, body instanceof ArrayBuffer ? [body] : undefined);
  }

  /**
   * The runtime is done with invocation `id` (host 'done', or 'respond' with done). In a batch, the
   * answer tells the runtime whether to start the next request: not in an isolate unfit for more work.
   * `nowUs`: the caller's reading of the tenant clock, just taken.
   */
  #done(live: LiveIsolate, id: number, nowUs?: number): boolean {
    const entry = this.#invocations.get(id);
    if (entry?.live === live) {
      entry.invocation.finished = true;
      // Ending runs after this slice returns: the runtime is still on the stack.
      queueMicrotask(() => this.#end(entry.live, entry.invocation, entry.invocation.failure ?? 'ok'));
    }
    if (live.batch === null) return true;
    // In a batch, the next request starts now: its CPU and its limit count from here.
    nowUs ??= recentTenantCpuUs();
    const next = live.batch.advance(id, nowUs, !live.poisoned);
    if (!next) return !live.poisoned;
    live.current = next;
    restartWatch(nowUs, next.remainingCpuMs);
    return true;
  }

  /** The invocation whose fetch `fetchId` is, whichever invocation's slice reads or writes its body. */
  #fetchOwner(live: LiveIsolate, fetchId: number, kind: 'uploads' | 'fetchedBodies'): Invocation | undefined {
    for (const invocation of live.invocations) if (invocation.subrequests?.[kind].has(fetchId)) return invocation;
    return undefined;
  }

  /** The worker reads on in a fetched body: the next chunk enters the isolate as a slice of its invocation. */
  #pullFetched(live: LiveIsolate, invocation: Invocation, fetchId: number): void {
    const body = invocation.subrequests!.fetchedBodies.get(fetchId);
    if (!body) return;
    body.next().then(
      (chunk) => {
        if (chunk === null) invocation.subrequests!.fetchedBodies.delete(fetchId);
        if (invocation.ended || live.tenant.disposed) return;
        this.#slice(live, invocation, ['fetchChunk', fetchId, chunk]);
      },
      (err: Error) => {
        invocation.subrequests!.fetchedBodies.delete(fetchId);
        if (invocation.ended || live.tenant.disposed) return;
        this.#slice(live, invocation, ['fetchBodyError', fetchId, err.message]);
      },
    );
  }

  #fireTimer(live: LiveIsolate, timerId: number): void {
    let timer = live.timers.get(timerId);
    if (!timer) return;
    // Timers run in the order they were due. A 0 ms timer is an immediate, which runs at the end of the
    // event loop's turn, except one set during that end itself (a batch of requests runs there): it waits
    // for the next turn's end, after the timeouts already due then, which ran first, out of order.
    if (!live.dueNow.has(timerId)) {
      for (const id of live.dueNow) {
        const due = live.timers.get(id);
        if (due && due.due > timer.due) break;
        if (due) clearTimer(due.handle);
        this.#fireTimer(live, id);
      }
      // Cleared by one of them.
      timer = live.timers.get(timerId);
      if (!timer) return;
    }
    live.timers.delete(timerId);
    live.dueNow.delete(timerId);
    timer.invocation.timers.delete(timerId);
    if (timer.invocation.ended || live.tenant.disposed) return;
    this.#slice(live, timer.invocation, ['timer', timerId]);
  }

  /** `invocation` leaves `live` before it ran there (to start in another isolate). */
  #detach(live: LiveIsolate, invocation: Invocation): void {
    live.invocations.delete(invocation);
    this.#invocations.delete(invocation.id);
    live.inflight--;
    // As when an invocation ends: a retired isolate goes with the last one on it.
    if (live.retiring && live.inflight === 0) live.dispose();
  }

  /**
   * The client went away before the response was complete. As on Workers, the response is cancelled and
   * waitUntil() work goes on, within the wall-time limit: the runtime aborts the request's signal, cancels
   * a body stream being sent (its source's cancel() runs) and says 'done' once that work has settled, at
   * once with none. The record keeps the client's outcome. Before, the invocation ended here, its
   * waitUntil() work with it (a log or an analytics write after a client left was lost).
   */
  #clientGone(live: LiveIsolate, invocation: Invocation, outcome: Outcome): void {
    // Not entered yet (queued for the turn's batch): nothing of it ran, nothing waits.
    if (invocation.queued !== null || live.tenant.disposed) {
      this.#end(live, invocation, outcome);
      return;
    }
    invocation.failure ??= outcome;
    invocation.responded = true;
    // A WebSocket answer's client that left before the upgrade completed: no close will come to give
    // the work left a deadline (wsClosed does), so it has the wall-time limit from now.
    if (invocation.webSocket) invocation.deadline = Math.min(invocation.deadline, Date.now() + live.tenant.version.limits.wallMs);
    this.#slice(live, invocation, ['clientGone', invocation.id]);
  }

  #end(live: LiveIsolate, invocation: Invocation, outcome: Outcome): void {
    if (invocation.ended) return;
    let cancelStopped = false;
    invocation.ended = true;
    for (const timerId of invocation.timers) {
      const timer = live.timers.get(timerId);
      if (timer) clearTimer(timer.handle);
      live.timers.delete(timerId);
      live.dueNow.delete(timerId);
    }
    invocation.timers.clear();
    invocation.subrequests?.abort();
    for (const bytes of invocation.heldFetchBodies?.values() ?? []) this.#held.release(live.worker, bytes);
    invocation.heldFetchBodies = null;
    live.invocations.delete(invocation);
    this.#invocations.delete(invocation.id);
    // The runtime forgets a cut-short invocation so its late continuations answer nobody (not charged).
    // Its abort listeners run in that call: their CPU is the invocation's too.
    if (outcome !== 'ok' && outcome !== 'exception' && !live.tenant.disposed) {
      // The cancel's slice is the invocation's: its console lines count against its cap, and its abort
      // listeners have what is left of its CPU (at most CANCEL_MAX_MS; at least CANCEL_MIN_MS, for the
      // runtime to forget it). One stopped there ends the invocation at that limit, and the isolate
      // goes as after any slice cut short (below).
      const current = live.current;
      live.current = invocation;
      const result = live.tenant.enter(['cancel', invocation.id], Math.min(CANCEL_MAX_MS, Math.max(CANCEL_MIN_MS, invocation.remainingCpuMs)));
      live.current = current;
      invocation.cpuUs += result.cpuUs;
      if (result.failure !== null && result.failure !== 'uncaught') {
        cancelStopped = true;
        if (result.failure === 'exceededCpu' || result.failure === 'exceededMemory') outcome = result.failure;
      }
    }
    if (!invocation.responded) {
      invocation.responded = true;
      this.#post({ t: 'failure', id: invocation.id, outcome });
    }
    const memoryBytes = live.sampleMemory();
    this.#post({ t: 'end', id: invocation.id, outcome, cold: invocation.cold, initMs: invocation.initMs, cpuUs: invocation.cpuUs, memoryBytes });
    live.inflight--;
    if (cancelStopped) this.#sliceFailed(live, invocation, outcome);
    else if (live.retiring && live.inflight === 0) live.dispose();
    else if (!live.tenant.disposed) {
      this.#pool.remeasure(live.tenant.version.id, live, memoryBytes);
      if (live.inflight === 0) this.#reducer.idle(live);
      if (outcome === 'ok') this.#recacheAfterFirstRequest(live);
    }
  }

  /**
   * Once per version and thread, after its first good request: its isolate's next idle upkeep remakes the
   * code cache (versions up to RECACHE_MAX_CHARS of source).
   */
  #recacheAfterFirstRequest(live: LiveIsolate): void {
    const version = live.tenant.version;
    if (this.#recached.has(version.id)) return;
    this.#recached.add(version.id);
    if (sourceLength(version) <= RECACHE_MAX_CHARS) live.cacheUpkeep = 'remake';
  }

  #ensureWallTicker(): void {
    if (this.#wallTicker) return;
    this.#wallTicker = setInterval(() => {
      const now = Date.now();
      // A Map's iteration goes on past entries deleted meanwhile (#end deletes the one it ends): no copy.
      for (const { invocation, live } of this.#invocations.values()) {
        if (invocation.deadline <= now) this.#end(live, invocation, 'exceededWallTime');
      }
      if (this.#invocations.size === 0 && this.#wallTicker) {
        clearInterval(this.#wallTicker);
        this.#wallTicker = null;
      }
    }, WALL_TICK_MS);
  }
}

/**
 * The primary's side of the serving processes (Node's cluster): starts one per core on the shared
 * data-plane port, sends them every change of what is live (the whole of it to a process that starts),
 * knows when all of them apply a change, routes deploy validation to one of them, hands cron triggers'
 * events to them in turn, collects their metering, and keeps them healthy:
 * - a process that dies (crash, OOM kill) is replaced at once; one that keeps dying is restarted with a
 *   growing delay, so a crash loop does not spin;
 * - a process whose RSS passes the recycle bound (or that served the recycle number of requests) is
 *   replaced before it is stopped: the replacement starts and catches up, then the old one stops taking
 *   connections (the primary accepts them, so none is dropped) and finishes what it has;
 * - a process that has not been heard from for `hungAfterMs` (it reports every second; nothing it runs
 *   holds its thread longer than seconds) is hung: it is killed and replaced, as if it had died, rather
 *   than left taking connections it never answers.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { IsolaneError, type ErrorCode } from '../errors.ts';
import { freePort } from './free-port.ts';
import type { DueTrigger } from '../triggers/cron-scheduler.ts';
import type { InvocationRecord, Route, Version } from '../types.ts';
import type { FromServing, Metering, ServingProcessData, ToServing } from './protocol.ts';
import { servingEnv } from './serving-env.ts';
import { servingExecArgv } from './young-generation.ts';

interface ServingProcess {
  index: number;
  worker: Worker;
  pid: number;
  startedAt: number;
  listening: boolean;
  listened: Promise<void>;
  applied: number;
  rss: number;
  requests: number;
  memoryReductions: number;
  memoryReductionCpuUs: number;
  platformCpuUs: number;
  isolates: { warm: number; evicted: number };
  /** Being replaced: it takes no new connections and exits once its requests are done. */
  retiring: boolean;
  /** Date.now() of its last message (it sends stats every second). */
  heardAt: number;
}

/** Builds that ended because their process exited: no answer about the version (validate). */
const exitedBuilding = new WeakSet<object>();

export interface RecycleBounds {
  /** Replace a process whose resident memory passes this many bytes (0: never). */
  rssBytes: number;
  /** Replace a process after it served this many requests (0: never). */
  requests: number;
}

/** A health event the primary logs: a process exited, was replaced or recycled. */
export type ServingEvent =
  | { type: 'serving-exit'; index: number; pid: number; code: number | null; signal: string | null; restartInMs: number }
  | { type: 'serving-recycle'; index: number; pid: number; reason: string }
  | { type: 'serving-hung'; index: number; pid: number; silentMs: number };

export interface ServingPoolOptions extends Omit<ServingProcessData, 'port'> {
  processes: number;
  /** 0 picks a free port. */
  port: number;
  recycle: RecycleBounds;
  /** A listening process silent this long is killed and replaced. */
  hungAfterMs: number;
  onMetering(message: Metering): void;
  onEvent(event: ServingEvent): void;
}

export interface ServingProcessInfo {
  index: number;
  pid: number;
  startedAt: string;
  rssBytes: number;
  requests: number;
  /** Idle isolates whose memory was given back so far, and the CPU that took. */
  idleGc: { isolates: number; cpuMs: number };
  /**
   * CPU the platform spent on its own work inside tenants' slices (runtime chunks, outbound fetches' set-up),
   * left out of what they were charged (src/limits/watchdog.ts `asPlatformWork`).
   */
  platformCpuMs: number;
  /** Warm tenant isolates now, and those the pool's bounds (count, memory, memory mappings) evicted so far. */
  isolates: { warm: number; evicted: number };
  ready: boolean;
}

/** A process that dies sooner than this after starting counts as crash-looping. */
const EARLY_EXIT_MS = 5000;
const MAX_RESTART_DELAY_MS = 30_000;
/** Draining processes get this long to finish before they are killed. */
const RECYCLE_GRACE_MS = 10_000;

export class ServingPool {
  readonly #options: ServingPoolOptions;
  /** One per slot: the process that serves it now. */
  readonly #slots: ServingProcess[] = [];
  /** Started but not yet in a slot (recycling), or leaving one (retiring): they get every change too. */
  readonly #others = new Set<ServingProcess>();
  readonly #versions = new Map<string, Version>();
  #routes: Route[] = [];
  #seq = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];
  readonly #validations = new Map<number, { proc: ServingProcess; resolve: (syntax: 'module' | 'service-worker') => void; reject: (err: IsolaneError) => void }>();
  readonly #events = new Map<number, { proc: ServingProcess; resolve: (record: InvocationRecord | null) => void; reject: (err: IsolaneError) => void }>();
  #nextEventSlot = 0;
  #nextJob = 1;
  #port = 0;
  #closing = false;
  #recycling = false;
  readonly #hangCheck: NodeJS.Timeout;
  #checkedAt = Date.now();
  #restarts = 0;
  readonly #earlyExits: number[] = [];

  private constructor(options: ServingPoolOptions) {
    this.#options = options;
    this.#port = options.port;
    this.#hangCheck = setInterval(() => this.#killHung(), Math.min(1000, options.hungAfterMs / 2));
    this.#hangCheck.unref();
  }

  /** A listening process that stopped reporting is stuck (its thread blocked): replaced via its exit. */
  #killHung(): void {
    const now = Date.now();
    const late = now - this.#checkedAt > this.#options.hungAfterMs / 2;
    this.#checkedAt = now;
    // This thread was the one held up (its timer ran late): the messages waiting for it are not read yet.
    if (late) return;
    for (const proc of [...this.#slots, ...this.#others]) {
      if (!proc.listening || proc.worker.isDead()) continue;
      const silentMs = now - proc.heardAt;
      if (silentMs < this.#options.hungAfterMs) continue;
      this.#options.onEvent({ type: 'serving-hung', index: proc.index, pid: proc.pid, silentMs });
      // Heard of again only through its exit, which replaces it.
      proc.heardAt = Infinity;
      proc.worker.process.kill('SIGKILL');
    }
  }

  /** Starts the processes and resolves once all of them listen. */
  static async start(options: ServingPoolOptions): Promise<ServingPool> {
    // The primary may run with a small young generation (`--max-semi-space-size`, see package.json's start
    // script): its metering churns through short-lived objects, and V8's default let its new space grow to
    // ~120 MB committed for ~10 MB live (+44 MB RSS in a 10-minute soak). The serving processes get their
    // own (young-generation.ts).
    const execArgv = servingExecArgv(process.execArgv);
    // Serving processes write nothing to stdout (their records and lines reach the primary by IPC), and
    // not sharing it matters: a child's libuv puts an inherited stdout back into blocking mode, a flag of
    // the open file that the primary shares, and the primary's log writes then blocked its event loop
    // whenever the log's reader stalled (/healthz and new connections timed out), instead of queueing and
    // dropping lines (log/logger.ts).
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./serving-process.ts', import.meta.url)), serialization: 'advanced', execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    // Port 0 becomes one free port before any process listens, and every process, replacements too,
    // listens on that number. Left at 0, the cluster's shared handle lasts only while one process holds
    // it: had they all died at once, the replacements would listen on another free port, and the clients
    // of the one announced would hang (seen with 10,000 workers in the density benchmark).
    const pool = new ServingPool(options.port === 0 ? { ...options, port: await freePort(options.host) } : options);
    const first = pool.#spawn(0);
    pool.#slots.push(first);
    await first.listened;
    for (let i = 1; i < options.processes; i++) pool.#slots.push(pool.#spawn(i));
    await Promise.all(pool.#slots.map((p) => p.listened));
    return pool;
  }

  get port(): number {
    return this.#port;
  }

  /** Restarts of processes that died (recycling not counted) since start. */
  get restarts(): number {
    return this.#restarts;
  }

  #spawn(index: number): ServingProcess {
    const { processes: _p, onMetering: _m, onEvent: _e, recycle: _r, hungAfterMs: _h, ...rest } = this.#options;
    // The cluster gives every process that listens on the same (address, port) the same handle.
    const data: ServingProcessData = { ...rest, port: this.#options.port };
    const worker = cluster.fork(servingEnv(process.env));
    let listened: () => void = () => {};
    const proc: ServingProcess = {
      index,
      worker,
      pid: worker.process.pid ?? 0,
      startedAt: Date.now(),
      listening: false,
      listened: new Promise((resolve) => (listened = resolve)),
      applied: 0,
      rss: 0,
      requests: 0,
      memoryReductions: 0,
      memoryReductionCpuUs: 0,
      platformCpuUs: 0,
      isolates: { warm: 0, evicted: 0 },
      retiring: false,
      heardAt: Date.now(),
    };
    worker.on('message', (message: FromServing) => {
      proc.heardAt = Date.now();
      switch (message.t) {
        case 'listening':
          this.#port = message.port;
          proc.listening = true;
          listened();
          return;
        case 'applied':
          proc.applied = Math.max(proc.applied, message.seq);
          this.#wake();
          return;
        case 'validated': {
          const job = this.#validations.get(message.jobId);
          this.#validations.delete(message.jobId);
          if (!job) return;
          if (message.error) job.reject(new IsolaneError(message.error.code as ErrorCode, message.error.message, { details: message.error.details }));
          else job.resolve(message.syntax!);
          return;
        }
        case 'scheduledDone': {
          const event = this.#events.get(message.jobId);
          this.#events.delete(message.jobId);
          event?.resolve(message.record);
          return;
        }
        case 'metering':
          this.#options.onMetering(message);
          return;
        case 'stats':
          proc.rss = message.rss;
          proc.requests = message.requests;
          proc.memoryReductions = message.memoryReductions;
          proc.memoryReductionCpuUs = message.memoryReductionCpuUs;
          proc.platformCpuUs = message.platformCpuUs;
          proc.isolates = { warm: message.warmIsolates, evicted: message.evictedIsolates };
          this.#checkRecycle(proc);
          return;
        case 'stopped':
          return;
      }
    });
    // 'error' is an IPC failure; the process's exit follows and is handled there.
    worker.on('error', (err) => process.emitWarning(`serving process ${proc.pid} failed: ${err.message}`));
    worker.on('exit', (code, signal) => this.#exited(proc, code, signal));
    // Its configuration, then every live worker, then the routes.
    this.#send(proc, { t: 'init', data });
    for (const [name, version] of this.#versions) this.#send(proc, { t: 'worker', seq: this.#seq, name, version });
    this.#send(proc, { t: 'routes', seq: this.#seq, routes: this.#routes });
    return proc;
  }

  #exited(proc: ServingProcess, code: number | null, signal: string | null): void {
    this.#others.delete(proc);
    for (const [jobId, job] of this.#validations) {
      if (job.proc !== proc) continue;
      this.#validations.delete(jobId);
      // The server's trouble, not the upload's: a 503 the client may retry, not a 400.
      const exited = new IsolaneError('ISO_ERR_DEPLOY_UNAVAILABLE', 'the serving process building the version exited; try again');
      exitedBuilding.add(exited);
      job.reject(exited);
    }
    for (const [jobId, event] of this.#events) {
      if (event.proc !== proc) continue;
      this.#events.delete(jobId);
      event.reject(new IsolaneError('ISO_ERR_INTERNAL', 'the serving process running the scheduled event exited'));
    }
    if (this.#closing || proc.retiring || this.#slots[proc.index] !== proc) {
      this.#wake();
      return;
    }
    // Its connections and in-flight requests are lost; a new process takes its place with the full state.
    this.#restarts++;
    const now = Date.now();
    if (now - proc.startedAt < EARLY_EXIT_MS) this.#earlyExits.push(now);
    while (this.#earlyExits.length > 0 && now - this.#earlyExits[0]! > 60_000) this.#earlyExits.shift();
    const restartInMs = this.#earlyExits.length === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (this.#earlyExits.length - 1));
    this.#options.onEvent({ type: 'serving-exit', index: proc.index, pid: proc.pid, code, signal, restartInMs });
    const restart = () => {
      if (this.#closing) return;
      this.#slots[proc.index] = this.#spawn(proc.index);
      this.#wake();
    };
    if (restartInMs === 0) restart();
    else setTimeout(restart, restartInMs).unref();
  }

  #checkRecycle(proc: ServingProcess): void {
    const { rssBytes, requests } = this.#options.recycle;
    if (this.#closing || this.#recycling || proc.retiring || this.#slots[proc.index] !== proc) return;
    let reason: string | null = null;
    if (rssBytes > 0 && proc.rss > rssBytes) reason = `rss ${Math.round(proc.rss / 1048576)} MiB over ${Math.round(rssBytes / 1048576)} MiB`;
    else if (requests > 0 && proc.requests >= requests) reason = `served ${proc.requests} requests`;
    if (reason !== null) void this.#recycle(proc, reason);
  }

  /** Replacement first, then the old process drains: capacity never drops below the slot count. */
  async #recycle(old: ServingProcess, reason: string): Promise<void> {
    this.#recycling = true;
    try {
      this.#options.onEvent({ type: 'serving-recycle', index: old.index, pid: old.pid, reason });
      const replacement = this.#spawn(old.index);
      this.#others.add(replacement);
      await replacement.listened;
      await this.#caughtUp(replacement);
      this.#others.delete(replacement);
      if (this.#closing || this.#slots[old.index] !== old) {
        replacement.worker.kill();
        return;
      }
      this.#slots[old.index] = replacement;
      old.retiring = true;
      this.#others.add(old);
      this.#stop(old, RECYCLE_GRACE_MS);
    } finally {
      this.#recycling = false;
    }
  }

  /** Resolves once `proc` applied every change made so far. */
  #caughtUp(proc: ServingProcess): Promise<void> {
    const seq = this.#seq;
    return new Promise((resolve) => {
      const check = () => (proc.applied >= seq || !proc.worker.isConnected() ? resolve() : setTimeout(check, 5));
      check();
    });
  }

  #stop(proc: ServingProcess, graceMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (proc.worker.isDead()) return resolve();
      proc.worker.once('exit', () => resolve());
      this.#send(proc, { t: 'shutdown', graceMs });
      // A process stuck in tenant code past its limits is ended rather than awaited forever.
      setTimeout(() => proc.worker.kill('SIGKILL'), graceMs + 2000).unref();
    });
  }

  #send(proc: ServingProcess, message: ToServing): void {
    if (proc.worker.isConnected()) proc.worker.send(message);
  }

  #broadcast(message: ToServing): void {
    for (const proc of this.#slots) this.#send(proc, message);
    for (const proc of this.#others) this.#send(proc, message);
  }

  #wake(): void {
    const applied = Math.min(...this.#slots.map((p) => (p.worker.isDead() ? Infinity : p.applied)));
    this.#waiters = this.#waiters.filter((w) => (w.seq <= applied ? (w.resolve(), false) : true));
  }

  /** A worker's active version changed (null: deleted). */
  setWorker(name: string, version: Version | null): void {
    if (version) this.#versions.set(name, version);
    else this.#versions.delete(name);
    this.#broadcast({ t: 'worker', seq: ++this.#seq, name, version });
  }

  setRoutes(routes: Route[]): void {
    this.#routes = routes;
    this.#broadcast({ t: 'routes', seq: ++this.#seq, routes });
  }

  /** Resolves when every serving process serves every change made so far. */
  settled(): Promise<void> {
    const seq = this.#seq;
    return new Promise((resolve) => {
      this.#waiters.push({ seq, resolve });
      this.#wake();
    });
  }

  /** Every slot has a process that listens and serves what is live now. */
  ready(): boolean {
    return !this.#closing && this.#slots.every((p) => p.listening && !p.worker.isDead() && p.applied >= this.#seq);
  }

  describe(): ServingProcessInfo[] {
    return this.#slots.map((p) => ({
      index: p.index,
      pid: p.pid,
      startedAt: new Date(p.startedAt).toISOString(),
      rssBytes: p.rss,
      requests: p.requests,
      idleGc: { isolates: p.memoryReductions, cpuMs: Math.round(p.memoryReductionCpuUs / 100) / 10 },
      platformCpuMs: Math.round(p.platformCpuUs / 100) / 10,
      isolates: p.isolates,
      ready: p.listening && !p.worker.isDead() && p.applied >= this.#seq,
    }));
  }

  /**
   * Builds the version in every process at once (compile, link, start, find the handler): the first
   * process's answer is the deploy's, the others' only warm it. The version goes live once all have
   * answered: a request another process took at once would wait there for the build, with its wall
   * time running, and for the offload thread to start (0.6-2 s) when the worker is the first to run
   * there. A failed warm-up only means a cold start there. A process that exits before it answers (it
   * was killed just before the deploy, and the primary has not heard yet) gives no answer: the next
   * process's is the deploy's.
   */
  async validate(version: Version): Promise<'module' | 'service-worker'> {
    // A process being replaced (not connected) would never answer.
    const building = this.#slots.filter((proc) => proc.worker.isConnected());
    if (building.length === 0) throw new IsolaneError('ISO_ERR_DEPLOY_UNAVAILABLE', 'no serving process is running to build the version; try again');
    const builds = await Promise.allSettled(building.map((proc) => this.#buildIn(proc, version)));
    const answer = builds.find((build) => build.status === 'fulfilled' || !exitedBuilding.has(build.reason)) ?? builds[0]!;
    if (answer.status === 'fulfilled') return answer.value;
    building.forEach((proc, i) => {
      if (builds[i]!.status === 'fulfilled') this.#send(proc, { t: 'discard', worker: version.worker, versionId: version.id });
    });
    throw answer.reason;
  }

  /** Sends `proc` a validate job; settles with its answer, or when `proc` exits. */
  #buildIn(proc: ServingProcess, version: Version): Promise<'module' | 'service-worker'> {
    const jobId = this.#nextJob++;
    return new Promise((resolve, reject) => {
      this.#validations.set(jobId, { proc, resolve, reject });
      this.#send(proc, { t: 'validate', jobId, version });
    });
  }

  /**
   * Runs a cron trigger's event in one serving process, each in turn; resolves with its record once it
   * is over, or null when the worker is not live there.
   */
  runScheduled(trigger: DueTrigger): Promise<InvocationRecord | null> {
    const connected = this.#slots.filter((proc) => proc.worker.isConnected());
    if (connected.length === 0) return Promise.reject(new IsolaneError('ISO_ERR_INTERNAL', 'no serving process is running to run the scheduled event'));
    const proc = connected[this.#nextEventSlot++ % connected.length]!;
    const jobId = this.#nextJob++;
    return new Promise((resolve, reject) => {
      this.#events.set(jobId, { proc, resolve, reject });
      this.#send(proc, { t: 'scheduled', jobId, trigger });
    });
  }

  /** Stops every process: in-flight requests get `graceMs` to finish. */
  async close(graceMs = 0): Promise<void> {
    this.#closing = true;
    clearInterval(this.#hangCheck);
    await Promise.all([...this.#slots, ...this.#others].map((proc) => this.#stop(proc, graceMs)));
  }
}

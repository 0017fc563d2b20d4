/**
 * The slice watchdog (native/isolate-watchdog.cc): the CPU limit of every entry into a tenant isolate,
 * enforced by the CPU time its thread used, from a thread of the addon's own.
 *
 * Why not isolated-vm's `timeout`: it is wall time, which on a busy host stops a starved thread long
 * before its CPU is used up (good workers with 2-3 ms of CPU ended exceededCpu at load 6-9 on 2 cores)
 * and lets a loop overrun when the load eases; and it stops a call through an interrupt that some V8
 * operations never service (`(2n ** 30000000n).toString()` ran 6.5 s, then isolated-vm suspended the
 * serving process's thread for good). The watchdog reads the slice's thread CPU clock every ~1 ms and
 * calls V8's TerminateExecution, which those operations do check. Tenant code cannot sleep on the thread
 * instead of spending CPU: the addon forbids Atomics.wait in tenant isolates (it throws a TypeError, as
 * on a browser's main thread).
 *
 * Every isolate that runs tenant code is registered (`watchIsolate`) and forgotten before it is
 * disposed; each thread that runs slices has one slot.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ivm from '../isolates/isolated-vm.ts';
import { threadCpuUs } from './thread-cpu.ts';

const ADDON = join(import.meta.dirname, '..', '..', 'build', 'Release', 'isolate_watchdog.node');

interface Addon {
  claimIsolate(): number;
  forgetIsolate(id: number): void;
  openSlot(): number;
  arm(slot: number, isolateId: number, cpuStartUs: number, cpuBudgetUs: number): void;
  /** The innermost slice counts again from `cpuStartUs` against `cpuBudgetUs` (unless already stopped). */
  restart(slot: number, cpuStartUs: number, cpuBudgetUs: number): void;
  /** 0: the slice ended by itself; 1: stopped at its CPU limit; 2: at its memory limit (one allocation past it). */
  disarm(slot: number): 0 | 1 | 2;
  /** The CPU this thread's host isolate spent collecting garbage since its slot opened. */
  hostGcUs(): number;
}

function load(): Addon {
  try {
    return createRequire(import.meta.url)(ADDON) as Addon;
  } catch (err) {
    throw new Error(`the isolate watchdog addon is missing (${ADDON}); run \`npm ci\` (or \`npx node-gyp rebuild\`) to build native/isolate-watchdog.cc`, { cause: err });
  }
}

const addon = load();
// The same library, loaded into isolates: its InitForContext tells the addon which V8 isolate it is in.
const probe = new ivm.NativeModule(ADDON);
// Module state is per thread (a worker thread loads its own copy): one slot per executor thread.
let slot: number | undefined;

/**
 * Gives the calling thread its slot with the watchdog, which starts the watchdog's own thread if this is
 * the process's first (a slice's first run does it otherwise).
 */
export function watchThisThread(): number {
  return (slot ??= addon.openSlot());
}

/**
 * The addon's helpers inside the isolate that owns `context` (an object made there: `namedKeys` and
 * `reduceMemory` when the addon was built against the server Node's V8 headers). Loading them also sets the isolate up: its
 * out-of-memory handler ends the process, and Atomics.wait is forbidden. The host hands the object to the
 * runtime's boot function, which keeps what it needs in a closure.
 */
export function isolateNatives(context: ivm.Context): ivm.Reference<Record<string, unknown>> {
  return probe.createSync(context) as ivm.Reference<Record<string, unknown>>;
}

/** Registers the isolate that owns `context`; returns the id for `runWatched` and `forgetIsolate`, and its natives. */
export function watchIsolate(context: ivm.Context): { id: number; natives: ivm.Reference<Record<string, unknown>> } {
  const natives = isolateNatives(context);
  return { id: addon.claimIsolate(), natives };
}

/** Call before disposing the isolate: the watchdog must not touch a freed isolate. */
export function forgetIsolate(isolateId: number): void {
  addon.forgetIsolate(isolateId);
}

/** Thrown by `runWatched` for a slice the watchdog stopped (slice-outcome.ts tells the limit by `limit`). */
export class SliceStopped extends Error {
  readonly limit: 'cpu' | 'memory';

  constructor(limit: 'cpu' | 'memory') {
    super(limit === 'cpu' ? 'Script execution timed out: it used up its CPU time' : 'Isolate ran past its memory limit in one allocation');
    this.limit = limit;
  }
}

/**
 * This thread's CPU clock less its host isolate's garbage collections (the addon's hostGcUs): those are
 * the platform's, and one inside a slice (during a host call that allocates) charged that slice ~0.5 ms
 * (a median of 514 µs against 50 for the others, with a 50 KB response body). The watchdog's limit
 * leaves them out the same way.
 */
function clockUs(): number {
  return threadCpuUs() - addon.hostGcUs();
}

/**
 * This thread's CPU spent on the platform's own work inside slices (a runtime chunk the runtime loads on
 * a worker's first use of, say, streams: `asPlatformWork`). Tenants are neither charged for it nor
 * limited by it, so the same request costs the same whether or not it is the isolate's first to need it.
 */
let platformUs = 0;

/** The platform's work inside slices on this thread so far: CPU no tenant was charged (GET /v1/system). */
export function platformCpuUs(): number {
  return platformUs;
}

/**
 * The most of one piece of platform work left out of the tenant clock. A chunk loads in 1-5 ms from the
 * code cache, ~20 from source (once per thread); but a chunk reads globals as it loads, and a tenant can
 * make those getters that compute, so what runs inside platform work is not all the platform's. Past
 * this it is the tenant's CPU, and the slice's limit stops it as usual.
 */
const PLATFORM_WORK_EXEMPT_US = 15_000;

/**
 * What one isolate's platform work may leave out of its tenant's clock in all (`PlatformAllowance`): a
 * review found a tenant gained 15 ms per chunk, and the runtime has ~23 chunks (the Node.js modules among
 * them), ~345 ms of unbilled CPU per isolate, holding the serving thread 157-258 ms a request.
 */
export const PLATFORM_WORK_EXEMPT_PER_ISOLATE_US = 100_000;

/** An isolate's allowance of exempt platform work, spent as its chunks load (see asPlatformWork). */
export interface PlatformAllowance {
  leftUs: number;
}

/** Platform work under way on this thread: nested work (a chunk whose load loads another) is the outer one's. */
let platformDepth = 0;

/** The armed slices of this thread, innermost last (as the addon's frames): start on the tenant clock, budget. */
const frames: { startUs: number; budgetUs: number }[] = [];

/**
 * The clock tenants are charged and limited by: this thread's CPU time without its host collections and
 * the platform's work inside slices. Every reading that meters a slice (its start, its end, a batch's boundaries) is taken from it,
 * here or through `recentTenantCpuUs`, and none is below one given before.
 */
export function tenantCpuUs(): number {
  // The wall clock first: the CPU the thread uses between the two readings is then counted, not missed.
  lastReading.wallMs = performance.now();
  lastReading.threadUs = clockUs();
  return given(lastReading.threadUs - platformUs);
}

/** How stale a reading `recentTenantCpuUs` builds on may be: the most it can overstate the clock by. */
const RECENT_READING_US = 100;

/** The last reading of this thread's CPU clock, and the wall clock then. */
const lastReading = { threadUs: 0, wallMs: -Infinity };

/** The highest value either function has returned: neither goes back below it. */
let highestUs = -Infinity;

function given(us: number): number {
  highestUs = Math.max(highestUs, us);
  return highestUs;
}

/**
 * The tenant clock without a system call when it was read less than RECENT_READING_US ago: that reading
 * plus the wall time since. A thread uses at most the wall time that passes, so this is never below the
 * clock and at most RECENT_READING_US above it; and since no reading goes back below one given before,
 * differences between readings never go negative either. For the boundaries of a batch's requests
 * (executor.ts), a few µs apart: reading the clock is a system call, ~0.6 µs alone and ~1 µs under load,
 * for requests of 5-10 µs each.
 */
export function recentTenantCpuUs(): number {
  const sinceUs = (performance.now() - lastReading.wallMs) * 1000;
  if (sinceUs >= RECENT_READING_US) return tenantCpuUs();
  return given(lastReading.threadUs + sinceUs - platformUs);
}

/**
 * Runs one synchronous entry into the isolate, stopped once its thread has used `cpuBudgetMs` of CPU
 * from `cpuStartUs` (a `tenantCpuUs()` reading taken just before), or once one allocation took its heap
 * past the limit (the addon's heap loan). A stopped slice throws `SliceStopped` (src/limits/slice-outcome.ts).
 */
export function runWatched<T>(isolateId: number, cpuBudgetMs: number, run: () => T, cpuStartUs = tenantCpuUs()): T {
  const threadSlot = watchThisThread();
  const frame = { startUs: cpuStartUs, budgetUs: Math.max(0, cpuBudgetMs) * 1000 };
  // The addon reads the thread's own clock less its host collections: the tenant clock's start is that
  // minus the platform's work.
  addon.arm(threadSlot, isolateId, frame.startUs + platformUs, frame.budgetUs);
  frames.push(frame);
  try {
    return run();
  } finally {
    frames.pop();
    // Thrown from `finally`, this replaces whatever the terminated call threw (V8 hands back null).
    const stop = addon.disarm(threadSlot);
    // A nested slice may have done platform work: the enclosing one's start moves on by as much.
    const outer = frames.at(-1);
    if (outer) addon.restart(threadSlot, outer.startUs + platformUs, outer.budgetUs);
    if (stop !== 0) throw new SliceStopped(stop === 1 ? 'cpu' : 'memory');
  }
}

/**
 * Whether the running slice has used more than its budget already: the watchdog stops it at its next
 * check, but a bridge call can come first (isolated-vm copies a call's arguments before the host sees
 * them, and a 200 MB string body takes longer to copy than the limit allows). `nowUs`: a reading of the
 * tenant clock just taken.
 */
export function sliceOverBudget(nowUs: number): boolean {
  const frame = frames.at(-1);
  return frame !== undefined && nowUs - frame.startUs > frame.budgetUs;
}

/**
 * Called from inside a running slice (a bridge call): its CPU limit counts again from `cpuStartUs` (tenant
 * clock), with `cpuBudgetMs`. A batch of requests runs in one entry (executor.ts): each gets its own limit.
 */
export function restartWatch(cpuStartUs: number, cpuBudgetMs: number): void {
  const frame = frames.at(-1);
  if (slot === undefined || !frame) return;
  frame.startUs = cpuStartUs;
  frame.budgetUs = Math.max(0, cpuBudgetMs) * 1000;
  addon.restart(slot, frame.startUs + platformUs, frame.budgetUs);
}

/**
 * Runs the platform's own work from inside a slice (a bridge call): up to PLATFORM_WORK_EXEMPT_US of its
 * CPU (and no more than what is left of `allowance`, the isolate's) is left out of the tenant clock, and
 * the slice's limit is extended by as much meanwhile. Only work
 * that succeeds is left out: a tenant can make a chunk fail (it replaced globals the chunk reads as it
 * loads), and the runtime asks for it again on the next use; exempt, a loop of such asks got ~1.3 s of
 * CPU past a 50 ms limit.
 */
export function asPlatformWork<T>(run: () => T, allowance?: PlatformAllowance): T {
  // Inside platform work already (a tenant's getter, run by a chunk's load, used another chunk): it is
  // part of the outer work, under the outer allowance, not a second one.
  if (platformDepth > 0) return run();
  const exemptUs = Math.min(PLATFORM_WORK_EXEMPT_US, allowance ? Math.max(0, allowance.leftUs) : PLATFORM_WORK_EXEMPT_US);
  const frame = frames.at(-1);
  const before = clockUs();
  if (slot !== undefined && frame) {
    const leftUs = frame.budgetUs - (before - platformUs - frame.startUs);
    addon.restart(slot, before, Math.max(0, leftUs) + exemptUs);
  }
  let succeeded = false;
  platformDepth++;
  try {
    const result = run();
    succeeded = true;
    return result;
  } finally {
    platformDepth--;
    if (succeeded) {
      const exempted = Math.min(clockUs() - before, exemptUs);
      platformUs += exempted;
      if (allowance) allowance.leftUs -= exempted;
    }
    if (slot !== undefined && frame) addon.restart(slot, frame.startUs + platformUs, frame.budgetUs);
  }
}

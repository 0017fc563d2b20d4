/**
 * The slice watchdog (native/isolate-watchdog.cc): stops a slice that ignores isolated-vm's `timeout`.
 *
 * isolated-vm ends a slice at its deadline through an interrupt that some V8 operations never service
 * (BigInt arithmetic and toString on huge values, `(2n ** 30000000n).toString()` runs ~6 s). After 5 s
 * it declares a catastrophic error and suspends the thread, which for a serving process means every
 * connection it holds. The watchdog's own thread calls V8's TerminateExecution, which those operations
 * do check, once a slice is `GRACE_MS` past its timeout: the slice ends as a CPU-limit overrun like
 * any other, and its isolate is discarded.
 *
 * Every isolate that runs tenant code is registered (`watchIsolate`) and forgotten before it is
 * disposed; each thread that runs slices has one slot, armed for the length of a slice.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ivm from 'isolated-vm';

const ADDON = join(import.meta.dirname, '..', '..', 'build', 'Release', 'isolate_watchdog.node');

/** How far past its own timeout a slice may run before the watchdog ends it (it looks every 25 ms). */
export const GRACE_MS = 100;

interface Addon {
  claimIsolate(): number;
  forgetIsolate(id: number): void;
  openSlot(): number;
  arm(slot: number, isolateId: number, ms: number): void;
  disarm(slot: number): boolean;
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

/** Registers the isolate that owns `context`; returns the id to pass to `runWatched` and `forgetIsolate`. */
export function watchIsolate(context: ivm.Context): number {
  // The returned reference points at an empty object inside the isolate; it is never given to tenant code.
  probe.createSync(context).release();
  return addon.claimIsolate();
}

/** Call before disposing the isolate: the watchdog must not touch a freed isolate. */
export function forgetIsolate(isolateId: number): void {
  addon.forgetIsolate(isolateId);
}

/**
 * Runs one timed entry into the isolate with the watchdog armed for `timeoutMs` plus the grace. A slice
 * the watchdog had to stop throws an error that reads as isolated-vm's own timeout.
 */
export function runWatched<T>(isolateId: number, timeoutMs: number, run: () => T): T {
  slot ??= addon.openSlot();
  addon.arm(slot, isolateId, Math.ceil(timeoutMs) + GRACE_MS);
  try {
    return run();
  } finally {
    // Thrown from `finally`, this replaces whatever the terminated call threw (V8 hands back null).
    if (addon.disarm(slot)) throw new Error(`Script execution timed out: stopped by the watchdog ${GRACE_MS} ms past its timeout`);
  }
}

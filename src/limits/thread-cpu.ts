/**
 * CPU time of the calling thread, in microseconds, from CLOCK_THREAD_CPUTIME_ID (native/thread-cpu.c,
 * built by `npm ci`). isolated-vm's `cpuTime` is wall time in shipped builds, and Node's
 * `process.threadCpuUsage()` advances in whole scheduler ticks (4 ms on these machines), so Isolane
 * reads the kernel's per-thread clock around each synchronous entry into an isolate: sleeping
 * or waiting for I/O is not charged, and a 1 ms slice reads as 1 ms.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ADDON = join(import.meta.dirname, '..', '..', 'build', 'Release', 'thread_cpu.node');

interface Addon {
  threadCpuUs(): number;
  setTimerSlackNs(ns: number): boolean;
}

function load(): Addon {
  try {
    return createRequire(import.meta.url)(ADDON) as Addon;
  } catch (err) {
    throw new Error(`the thread CPU clock addon is missing (${ADDON}); run \`npm ci\` (or \`npx node-gyp rebuild\`) to build native/thread-cpu.c`, { cause: err });
  }
}

const addon = load();

export const threadCpuUs: () => number = addon.threadCpuUs;

/**
 * Lets the kernel delay this thread's timer wake-ups, and those of threads it creates, by up to `ns`.
 * The slice watchdog (src/limits/watchdog.ts), created from a serving thread, wakes every millisecond
 * while slices run; with 1 ms of slack the kernel may batch those wake-ups with others, and a runaway
 * slice is stopped at most ~1 ms later. Returns false where the OS has no such setting.
 */
export const setTimerSlackNs: (ns: number) => boolean = addon.setTimerSlackNs;

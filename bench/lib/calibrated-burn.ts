/**
 * A known amount of CPU, for checking what metering charges: `burn(n)` run in an isolate on the calling
 * thread and measured with the same per-thread clock the executor uses (src/limits/thread-cpu.ts), so
 * machine load cannot skew the reference. Used by the metering test and the metering benchmark.
 */
import ivm from '../../src/isolates/isolated-vm.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';

/** The loop both sides run: a worker declares it, the calibrator evaluates it. */
export const BURN = `function burn(n) { let x = 0; for (let i = 0; i < n; i++) x = (x + i * 7) % 1000003; return x; }`;

export interface Calibrator {
  /** Thread CPU, in µs, of burn(n). */
  measure(n: number): number;
  dispose(): void;
}

/** `warmups` runs of burn(1e6) first, to warm the JIT as a worker's isolate is warmed. */
export function calibrator(warmups: number): Calibrator {
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  const context = isolate.createContextSync();
  const burn = context.evalSync(`(${BURN.replace('function burn', 'function')})`, { reference: true }) as ivm.Reference<(n: number) => number>;
  const measure = (n: number) => {
    const before = threadCpuUs();
    burn.applySync(undefined, [n]);
    return threadCpuUs() - before;
  };
  for (let i = 0; i < warmups; i++) measure(1e6);
  return { measure, dispose: () => isolate.dispose() };
}

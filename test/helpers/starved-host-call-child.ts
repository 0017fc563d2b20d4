/**
 * A slice stopped at its CPU limit while a host call it made is still under way, and that call then
 * takes 7 s of wall time using no CPU (as a call starved of a core does): the watchdog must not take it
 * for a slice that cannot be stopped. Prints the slice's end; the watchdog's verdict is the exit code
 * (70 when it ends the process). See test/limits/wedged-slice.test.ts.
 */
import ivm from '../../src/isolates/isolated-vm.ts';
import { runWatched, SliceStopped, watchIsolate } from '../../src/limits/watchdog.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';

const WAIT_MS = Number(process.argv[2] ?? 7000);
const isolate = new ivm.Isolate({ memoryLimit: 32 });
const context = isolate.createContextSync();
const { id } = watchIsolate(context);
const hostCall = new ivm.Callback(() => {
  // Past the slice's 1 ms, so the watchdog stops it while the call runs...
  const start = threadCpuUs();
  while (threadCpuUs() - start < 20_000);
  // ...then the call waits, using no CPU.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAIT_MS);
});
context.global.setSync('hostCall', hostCall);
try {
  runWatched(id, 1, () => context.evalSync('hostCall(); for (;;);'));
  console.log('ended by itself');
} catch (err) {
  console.log(err instanceof SliceStopped ? 'stopped at its CPU limit' : `failed: ${String(err)}`);
}

/** Entry point of an executor worker thread: wires the Executor to the parent port. */
import type { RuntimeBundle } from './runtime-bundle.ts';
import { access } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { watchThisThread } from '../limits/watchdog.ts';
import { Executor } from './executor.ts';
import type { ExecutorOptions } from './executor.ts';
import type { ToExecutor } from './protocol.ts';

export interface ExecutorThreadData {
  runtime: RuntimeBundle;
  options: ExecutorOptions;
}

/**
 * The offload thread runs the heavy workers (src/limits/heavy-workers.ts: allowed more than 200 ms of
 * CPU, or overran their limit) at a lower scheduling priority than the serving thread: when both want a
 * core, the serving thread's short requests come first, and the heavy work gets what is left (an idle
 * machine still gives it all). Good tenants' closed-loop throughput while a worker allowed 10 s computed
 * on two connections: 10.9-16.0k req/s at nice 0, 16.1-21.6k at 10 (docs/ARCHITECTURE.md, "Processes and threads").
 */
const OFFLOAD_NICE = 10;

// Linux keeps a nice value per thread (elsewhere it is the whole process's, the serving thread's too).
// A thread starts with the nice value of the thread that made it, and two threads the whole process
// shares are made on first use: the CPU-limit watchdog's and libuv's pool (files, DNS lookups of
// outbound fetches). Made now if this thread is the first to need them, they keep the serving priority.
if (process.platform === 'linux') {
  watchThisThread();
  await access(fileURLToPath(import.meta.url));
  try {
    setPriority(0, OFFLOAD_NICE);
  } catch (err) {
    // A sandbox that refuses setpriority(2): heavy workers keep the serving priority, and still run here.
    process.emitWarning(`the offload thread keeps its priority: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const port = parentPort!;
const { runtime, options } = workerData as ExecutorThreadData;
const executor = new Executor(runtime, options, (message, transfer) => port.postMessage(message, transfer));
port.on('message', (message: ToExecutor) => {
  if (message.t !== 'shutdown') return executor.handle(message);
  // The port closes (and the thread can end) once no spare isolate is still being prepared.
  void executor.close().then(() => port.close());
});

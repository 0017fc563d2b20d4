/** Entry point of an executor worker thread: wires the Executor to the parent port. */
import type { RuntimeBundle } from './runtime-bundle.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { Executor } from './executor.ts';
import type { ExecutorOptions } from './executor.ts';
import type { ToExecutor } from './protocol.ts';

export interface ExecutorThreadData {
  runtime: RuntimeBundle;
  options: ExecutorOptions;
}

const port = parentPort!;
const { runtime, options } = workerData as ExecutorThreadData;
const executor = new Executor(runtime, options, (message, transfer) => port.postMessage(message, transfer));
port.on('message', (message: ToExecutor) => {
  if (message.t !== 'shutdown') return executor.handle(message);
  // The port closes (and the thread can end) once no spare isolate is still being prepared.
  void executor.close().then(() => port.close());
});

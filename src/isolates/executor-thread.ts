/** Entry point of an executor worker thread: wires the Executor to the parent port. */
import { parentPort, workerData } from 'node:worker_threads';
import { Executor } from './executor.ts';
import type { IsolatePoolOptions } from './isolate-pool.ts';
import type { ToExecutor } from './protocol.ts';

export interface ExecutorThreadData {
  runtimeCode: string;
  pool: IsolatePoolOptions;
}

const port = parentPort!;
const { runtimeCode, pool } = workerData as ExecutorThreadData;
const executor = new Executor(runtimeCode, pool, (message, transfer) => port.postMessage(message, transfer));
port.on('message', (message: ToExecutor) => {
  if (message.t !== 'shutdown') return executor.handle(message);
  executor.close();
  port.close();
});

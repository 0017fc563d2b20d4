/**
 * Timers run in the order they were due, in one isolate. A 0 ms timer is an immediate, and one set while
 * the event loop runs its immediates (a batch of requests runs there) waits for the next turn's, after
 * that turn's due timeouts: a 3 ms timer set just before it ran first, 1 run in ~10 of
 * test/e2e/timers.test.ts. Here the turn is made to last past 3 ms on purpose.
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();
const messages: FromExecutor[] = [];
const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 600_000, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
t.teardown(() => executor.close());
const { load, invoke } = executorDriver(executor, 1000, '/');

t.test('a 0 ms timer set after a 3 ms one runs first, even when set while immediates run', async (t) => {
  load('order', `export default { async fetch() {
    const order = [];
    const later = new Promise((resolve) => setTimeout(() => { order.push('3 ms'); resolve() }, 3));
    await new Promise((resolve) => setTimeout(() => { order.push('0 ms'); resolve() }, 0));
    await later;
    return new Response(order.join(','));
  } }`);
  // Warm, so that the request below runs at once when invoked.
  await executorEnds(messages, [invoke('order')]);
  for (let round = 0; round < 5; round++) {
    const id = await new Promise<number>((resolve) =>
      setImmediate(() => {
        // In the check phase: the request's batch runs in a later immediate of this same phase, and this
        // turn then lasts 5 ms more, so the 3 ms timeout is due before the next turn's immediates.
        const invoked = invoke('order');
        setImmediate(() => {
          const until = performance.now() + 5;
          while (performance.now() < until);
        });
        resolve(invoked);
      }),
    );
    await executorEnds(messages, [id]);
    const response = messages.find((m): m is ResponseMessage => m.t === 'response' && m.id === id);
    t.equal(response?.body, '0 ms,3 ms', `round ${round}: in the order they were due`);
  }
});

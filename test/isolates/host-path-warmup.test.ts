/**
 * An executor serves one invocation of its own when it starts (src/isolates/host-path-warmup.ts), so that
 * the host's side of the invocation path is compiled before a tenant is charged for it. That invocation
 * answers nobody: none of its messages reach the executor's owner, its version is unloaded when it ends,
 * and the pool keeps only tenants' isolates.
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import { WARMUP_INVOCATION_ID, WARMUP_VERSION } from '../../src/isolates/host-path-warmup.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();

t.test("the warm-up invocation's messages go nowhere, and its version is gone once it ended", async (t) => {
  const messages: FromExecutor[] = [];
  const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  const { load, invoke } = executorDriver(executor, 50, '/hello');
  load('tenant', `export default { fetch(request) { return new Response(new URL(request.url).pathname) } }`);
  const [served] = await executorEnds(messages, [invoke('tenant')]);
  t.equal(served!.outcome, 'ok', "the tenant's first invocation");

  // The warm-up started first; asked for by name once it ended, its version is not found.
  let outcome = '';
  for (let i = 0; i < 50 && outcome !== 'scriptNotFound'; i++) {
    const [end] = await executorEnds(messages, [invoke(WARMUP_VERSION.id)]);
    outcome = end!.outcome;
    if (outcome !== 'scriptNotFound') await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(outcome, 'scriptNotFound', 'the warm-up version was unloaded');
  t.notOk(messages.some((m) => 'id' in m && m.id === WARMUP_INVOCATION_ID), 'no message of the warm-up invocation was posted');
  t.notOk(messages.some((m) => m.t === 'log'), 'and no log line');
});

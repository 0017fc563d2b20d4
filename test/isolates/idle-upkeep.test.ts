/**
 * An idle isolate's upkeep (its code cache made again, a memory-reducing collection) runs on isolated-vm's
 * threads (executor.ts, LiveIsolate.reduceMemory): a request that comes for the isolate meanwhile waits
 * for it and is then served as usual.
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const IDLE_GC_MS = 30;

t.test('requests that come while the upkeep runs are served, and every idle period has its upkeep', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: IDLE_GC_MS, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  const { load, invoke } = executorDriver(executor, 1000, '/');
  // ~3 MB of objects kept and some garbage each request: the collection has work to do.
  load('tenant', `const kept = Array.from({ length: 30000 }, (_, i) => ({ i, s: 'item ' + i }));
export default { fetch() { const garbage = Array.from({ length: 20000 }, (_, i) => ({ i })); return new Response(String(kept.length + garbage.length)) } }`);
  const ids: number[] = [];
  const reductions = () => messages.filter((m) => m.t === 'memoryReduced').length;
  for (let period = 0; period < 12; period++) {
    ids.push(invoke('tenant'));
    await executorEnds(messages, [ids.at(-1)!]);
    // Just past the idle delay, when the upkeep has started; then a few more while it may still run.
    await sleep(IDLE_GC_MS + (period % 4));
    for (let i = 0; i < 3; i++) ids.push(invoke('tenant'));
    await executorEnds(messages, ids.slice(-3));
  }
  // The last idle period's upkeep, at least, runs whole.
  for (let i = 0; i < 100 && reductions() === 0; i++) await sleep(IDLE_GC_MS);
  const ends = await executorEnds(messages, ids);
  t.same(new Set(ends.map((end) => end.outcome)), new Set(['ok']), `${ids.length} requests, all answered`);
  const bodies = new Map(messages.flatMap((m) => (m.t === 'response' ? [[m.id, m.body] as const] : [])));
  t.same(ids.map((id) => bodies.get(id)), ids.map(() => '50000'), 'each with its response');
  t.ok(reductions() >= 1, `${reductions()} idle upkeeps ran (12 idle periods; one is skipped when a request comes first)`);
});

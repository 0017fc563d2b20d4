/**
 * After a version's first good request, its isolate's idle upkeep makes the code cache again with what
 * that request compiled (executor.ts), on the serving thread: only for versions up to 256 KB of source,
 * since a bigger one's took 20-40 ms of every other tenant's time there.
 */
import t from 'tap';
import { cachedCode, moduleCacheKey } from '../../src/isolates/code-cache.ts';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Long enough that both versions have served before either's upkeep (a 300 KB compile on a busy machine
// took more than 30 ms, and the small one's cache was then remade before the test first read it).
const IDLE_GC_MS = 400;

const handler = `export default { fetch() { return new Response(answer()) } }
function answer() { return [1, 2, 3].map((n) => n * 2).join(',') }`;

t.test('the idle upkeep remakes a small version\'s code cache, not a big one\'s', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: IDLE_GC_MS, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  const { load, invoke } = executorDriver(executor, 1000, '/');
  load('small', handler);
  load('big', `export const padding = "${'x'.repeat(300 * 1024)}";\n${handler}`);
  for (const id of ['small', 'big']) {
    const [first] = await executorEnds(messages, [invoke(id)]);
    t.equal(first!.outcome, 'ok', `${id}: served`);
  }
  const before = new Map(['small', 'big'].map((id) => [id, cachedCode(moduleCacheKey(id, 'main.js'))]));
  t.ok(before.get('small') && before.get('big'), 'both have the cache their compile made');
  // Both idle: each has its upkeep, one at a time.
  for (let i = 0; i < 100 && messages.filter((m) => m.t === 'memoryReduced').length < 2; i++) await sleep(50);
  t.equal(messages.filter((m) => m.t === 'memoryReduced').length, 2, 'both had their idle upkeep');
  t.not(cachedCode(moduleCacheKey('small', 'main.js')), before.get('small'), 'the small version\'s cache was made again');
  t.equal(cachedCode(moduleCacheKey('big', 'main.js')), before.get('big'), 'the big version\'s was left as its compile made it');
});

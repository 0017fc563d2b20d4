/**
 * A runtime chunk's CPU is the platform's, not the tenant's (watchdog.ts `asPlatformWork`): the request
 * whose first use of a feature loads the chunk is neither charged for it nor stopped by it, alone, in a
 * batch, or in top-level code. And a tenant cannot turn that into CPU past its limit: a chunk it makes
 * fail is charged, and so is what its own getters compute while a chunk loads, past a small allowance.
 * Real isolates and runtime; the URLPattern chunk is made to compute ~6-8 ms of CPU as it loads, for
 * workers limited to 5 ms that only look the global up.
 */
import t, { type Test } from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { EndMessage, FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const CPU_LIMIT_MS = 5;
/** ~8 ns an iteration here: CPU, whatever the machine's load (a Date.now() loop would be wall time). */
const CHUNK_WORK = `{ let x = 0; for (let i = 0; i < 800000; i++) x = (x * 31 + i) | 0; }\n`;

const bundle = await buildRuntimeBundle();
const runtime = { ...bundle, chunks: { ...bundle.chunks, urlpattern: CHUNK_WORK + bundle.chunks.urlpattern } };

const messages: FromExecutor[] = [];
// As on a serving thread, with a startup budget the chunk's work alone would exceed.
const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: CPU_LIMIT_MS }, (m) => messages.push(m));
t.teardown(() => executor.close());

const { load, invoke } = executorDriver(executor, CPU_LIMIT_MS, '/a');

// Looking the global up loads the chunk; the worker's own work is next to nothing.
const LOOKS_UP = `export default { fetch() { return new Response(typeof URLPattern) } }`;

function assertNotCharged(t: Test, ends: EndMessage[]): void {
  for (const end of ends) {
    t.equal(end.outcome, 'ok', `invocation ${end.id} ran to the end`);
    t.ok(end.cpuUs >= 0 && end.cpuUs < CPU_LIMIT_MS * 1000, `invocation ${end.id} charged ${Math.round(end.cpuUs)} µs, not the chunk's work`);
  }
}

t.before(async () => {
  // The thread's first load compiles the chunk from source and keeps its code cache, as a warm server has.
  load('warm-up', LOOKS_UP);
  await executorEnds(messages, [invoke('warm-up')]);
});

t.test('a request that loads a chunk is not charged for it, nor stopped by it', async (t) => {
  load('alone', LOOKS_UP);
  const ends = await executorEnds(messages, [invoke('alone')]);
  assertNotCharged(t, ends);
  t.match(
    messages.find((m) => m.t === 'response' && m.id === ends[0]!.id),
    { status: 200, body: 'function' },
    'and it answered',
  );
});

t.test('in a batch, the request that loaded it and those after it are charged their own CPU', async (t) => {
  load('batch', LOOKS_UP);
  // Invoked in one turn: they enter the isolate together (request-batches.ts).
  const ids = [invoke('batch'), invoke('batch'), invoke('batch')];
  assertNotCharged(t, await executorEnds(messages, ids));
});

t.test('top-level code that loads a chunk keeps its startup budget for its own work', async (t) => {
  load('top-level', `const kind = typeof URLPattern;\nexport default { fetch() { return new Response(kind) } }`);
  const id = invoke('top-level');
  const ends = await executorEnds(messages, [id]);
  t.notOk(messages.some((m) => m.t === 'slowStart' && m.id === id), 'not handed back as a slow start');
  assertNotCharged(t, ends);
});

t.test('a chunk the tenant makes fail is charged: asking for it again and again ends at the limit', async (t) => {
  // Without Symbol, web streams' chunk throws as it loads, and the runtime asks for it on every use.
  load('fails', `export default { fetch() {
    globalThis.Symbol = undefined;
    for (;;) { try { new ReadableStream(); } catch {} }
  } }`, 50);
  const before = threadCpuUs();
  const [end] = await executorEnds(messages, [invoke('fails')]);
  const used = threadCpuUs() - before;
  t.equal(end!.outcome, 'exceededCpu');
  // At the default 50 ms limit; exempt, the failed loads ran for ~1.3 s.
  t.ok(used < 400_000, `the thread spent ${Math.round(used / 1000)} ms on it: the limit and about one load`);
});

t.test("the tenant's own getters, run while a chunk loads, are charged past a small allowance", async (t) => {
  load('getter', `export default { fetch() {
    const S = Symbol;
    let spun = false;
    Object.defineProperty(globalThis, 'Symbol', { configurable: true, get() { if (!spun) { spun = true; const end = Date.now() + 150; while (Date.now() < end); } return S; } });
    new ReadableStream();
    return new Response('free CPU');
  } }`);
  const [end] = await executorEnds(messages, [invoke('getter')]);
  t.equal(end!.outcome, 'exceededCpu', "stopped: 150 ms of the tenant's getter is not the platform's");
  t.notOk(messages.some((m) => m.t === 'response' && m.id === end!.id), 'and it did not answer');
});

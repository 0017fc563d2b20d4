/**
 * A runtime chunk's CPU is the platform's, not the tenant's (watchdog.ts `asPlatformWork`): the request
 * whose first use of a feature loads the chunk is neither charged for it nor stopped by it, alone, in a
 * batch, or in top-level code. Real isolates and runtime, with the URLPattern chunk made to spin 20 ms
 * before it loads, for workers whose CPU limit is 15 ms. And a tenant cannot turn that into CPU past its
 * limit: a chunk it makes fail is charged, and so is what its own getters compute while a chunk loads.
 */
import t, { type Test } from 'tap';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { Executor } from '../../src/isolates/executor.ts';
import type { EndMessage, FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';
import { executorEnds } from '../helpers/executor-ends.ts';

const SPIN_MS = 20;
const CPU_LIMIT_MS = 15;

const bundle = await buildRuntimeBundle();
const runtime = { ...bundle, chunks: { ...bundle.chunks, urlpattern: `for (const end = Date.now() + ${SPIN_MS}; Date.now() < end;);\n${bundle.chunks.urlpattern}` } };

const messages: FromExecutor[] = [];
// As on a serving thread: top-level code gets 50 ms of CPU before the cold start is handed back.
const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: 50 }, (m) => messages.push(m));
t.teardown(() => executor.close());

function load(id: string, content: string): void {
  const version = {
    id,
    worker: id,
    createdAt: new Date(0).toISOString(),
    syntax: 'module',
    main: 'main.js',
    modules: [{ name: 'main.js', type: 'esm', content }],
    bindings: [],
    compatibilityDate: null,
    limits: { ...DEFAULT_LIMITS, cpuMs: CPU_LIMIT_MS },
  } satisfies Version;
  executor.handle({ t: 'load', version });
}

let nextId = 0;
function invoke(versionId: string): number {
  const id = ++nextId;
  executor.handle({ t: 'invoke', id, requestId: `r${id}`, worker: versionId, versionId, deadline: Date.now() + 10_000, request: { method: 'GET', url: `http://${versionId}.test/a`, headers: `host\n${versionId}.test`, body: null } });
  return id;
}

const USES_PATTERN = `export default { fetch(request) { return new Response(String(new URLPattern({ pathname: '/a' }).test(request.url))) } }`;

function assertNotCharged(t: Test, ends: EndMessage[]): void {
  for (const end of ends) {
    t.equal(end.outcome, 'ok', `invocation ${end.id} ran to the end`);
    t.ok(end.cpuUs < CPU_LIMIT_MS * 1000, `invocation ${end.id} charged ${end.cpuUs} µs, not the chunk's ${SPIN_MS} ms`);
  }
}

t.test('a request that loads a chunk is not charged for it, nor stopped by it', async (t) => {
  load('alone', USES_PATTERN);
  const ends = await executorEnds(messages, [invoke('alone')]);
  assertNotCharged(t, ends);
  const answer = messages.find((m) => m.t === 'response' && m.id === ends[0]!.id);
  t.match(answer, { status: 200, body: 'true' }, 'and it answered');
});

t.test('in a batch, the request that loaded it and those after it are charged their own CPU', async (t) => {
  load('batch', USES_PATTERN);
  // Invoked in one turn: they enter the isolate together (request-batches.ts).
  const ids = [invoke('batch'), invoke('batch'), invoke('batch')];
  assertNotCharged(t, await executorEnds(messages, ids));
});

t.test('top-level code that loads a chunk keeps its startup budget for its own work', async (t) => {
  load('top-level', `const pattern = new URLPattern({ pathname: '/a' });\nexport default { fetch(request) { return new Response(String(pattern.test(request.url))) } }`);
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
  } }`);
  const before = threadCpuUs();
  const [end] = await executorEnds(messages, [invoke('fails')]);
  const used = threadCpuUs() - before;
  t.equal(end!.outcome, 'exceededCpu');
  // Exempt, the failed loads ran for ~1.3 s at a 50 ms limit.
  t.ok(used < 250_000, `the thread spent ${Math.round(used / 1000)} ms on it, about the limit and one load`);
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
  t.equal(end!.outcome, 'exceededCpu', 'stopped: 150 ms of getter is not the platform\'s');
  t.notOk(messages.some((m) => m.t === 'response' && m.id === end!.id && m.body === 'free CPU'));
});

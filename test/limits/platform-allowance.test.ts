/**
 * What an isolate's runtime chunks may leave out of its tenant's clock has a total (watchdog.ts
 * PLATFORM_WORK_EXEMPT_PER_ISOLATE_US), not only a cap per chunk: a review found a tenant's getters,
 * run while each of ~23 chunks loaded, gained 15 ms apiece, ~345 ms of unbilled CPU holding the serving
 * thread. Here each Node.js module's chunk computes ~20-30 ms as it loads, of which the per-chunk cap
 * alone left out 15 ms every time. (The executor runs on this thread: platformCpuUs() is its own.)
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { PLATFORM_WORK_EXEMPT_PER_ISOLATE_US, platformCpuUs } from '../../src/limits/watchdog.ts';
import type { Version } from '../../src/types.ts';
import { executorEnds, moduleVersion } from '../helpers/executor-ends.ts';

/** ~8 ns an iteration: CPU, whatever the machine's load. */
const CHUNK_WORK = `{ let x = 0; for (let i = 0; i < 4000000; i++) x = (x * 31 + i) | 0; }\n`;
const MODULES = ['buffer', 'events', 'path', 'util', 'crypto', 'assert', 'async_hooks', 'string_decoder', 'stream', 'url', 'querystring', 'timers', 'diagnostics_channel', 'zlib'];
const CHUNKS = ['node-buffer', 'node-events', 'node-path', 'node-util', 'node-crypto', 'node-assert', 'node-async-hooks', 'node-process', 'node-string-decoder', 'node-stream', 'node-url', 'node-querystring', 'node-timers', 'node-diagnostics-channel', 'node-zlib'];

const bundle = await buildRuntimeBundle();
const chunks = { ...bundle.chunks };
for (const name of CHUNKS) chunks[name] = CHUNK_WORK + chunks[name]!;
const messages: FromExecutor[] = [];
const executor = new Executor({ ...bundle, chunks }, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
t.teardown(() => executor.close());

const USES_ALL = `export default { fetch() { let n = 0; for (const name of ${JSON.stringify(MODULES)}) n += Object.keys(process.getBuiltinModule('node:' + name)).length > 0 ? 1 : 0; return new Response(String(n)) } }`;

function version(id: string, cpuMs: number): Version {
  return { ...moduleVersion(id, USES_ALL, cpuMs), compatibilityFlags: ['nodejs_compat'] };
}

let nextId = 0;
async function run(versionId: string, cpuMs: number) {
  executor.handle({ t: 'load', version: version(versionId, cpuMs) });
  const id = ++nextId;
  executor.handle({ t: 'invoke', id, requestId: `r${id}`, worker: versionId, versionId, deadline: Date.now() + 30_000, request: { method: 'GET', url: `http://${versionId}.test/`, headers: `host\n${versionId}.test`, body: null } });
  const [end] = await executorEnds(messages, [id]);
  return end!;
}

t.test("past the isolate's allowance, its chunks' work is the tenant's CPU", async (t) => {
  // The thread's first loads compile the chunks from source and keep their code caches.
  const warm = await run('warm-up', 30_000);
  t.equal(warm.outcome, 'ok');
  const before = platformCpuUs();
  const end = await run('uses-all', 5_000);
  const exempt = platformCpuUs() - before;
  t.equal(end.outcome, 'ok', 'it ran');
  t.ok(exempt <= PLATFORM_WORK_EXEMPT_PER_ISOLATE_US, `${Math.round(exempt / 1000)} ms left out of the tenant's clock, at most the isolate's allowance`);
  t.ok(end.cpuUs >= 100_000, `the rest charged: ${Math.round(end.cpuUs / 1000)} ms`);
});

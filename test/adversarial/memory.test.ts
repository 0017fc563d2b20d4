/**
 * Hostile memory users uploaded through the admin API while two good workers on other hosts serve a
 * steady load: each ends exceededMemory (503) or as an exception the worker can catch, never as a crash
 * of the serving process, and no good request fails.
 */
import t from 'tap';
import { Arena, assertNoGoodFailures, finishArena, runHostile, type HostileCase } from '../helpers/arena.ts';

const arena = await Arena.start(t);
const small = { limits: { memory_mb: 32, cpu_ms: 20_000 } };
const OOM = { status: 503, outcome: 'exceededMemory', code: 'ISO_ERR_WORKER_EXCEEDED_MEMORY' } as const;

const cases: HostileCase[] = [
  {
    // One V8 call that lists every element, and near the memory limit collects garbage again and again
    // inside it: 13 s, after which the watchdog ended the serving process. The runtime now walks the
    // indices itself, with the watchdog addon's namedKeys (runtime/global/interruptible/object-keys.ts).
    title: 'Object.entries of a 4e6-element array near the memory limit',
    name: 'm-entries',
    source: `export default { fetch() { return new Response(String(Object.entries(new Array(4e6).fill(0)).length)) } }`,
    metadata: { limits: { cpu_ms: 200 } },
    status: 503,
    outcome: ['exceededCpu', 'exceededMemory'],
    check(t, _reply, record) {
      t.ok((record?.wallMs as number) < 2_000, `answered after ${record?.wallMs} ms (was cut by the process ending at ~6 s)`);
    },
  },
  {
    title: 'arrays kept growing',
    name: 'm-arrays',
    source: `export default { fetch() { const keep = []; for (;;) keep.push(new Array(1e5).fill(1.5)); } }`,
    metadata: small,
    ...OOM,
  },
  {
    title: 'strings kept growing',
    name: 'm-strings',
    source: `export default { fetch() { const s = 'x'.repeat(1 << 20); const keep = []; for (let i = 0; ; i++) keep.push(s + i); } }`,
    metadata: small,
    ...OOM,
  },
  {
    title: 'ArrayBuffers kept growing',
    name: 'm-buffers',
    source: `export default { fetch() { const keep = []; for (;;) keep.push(new Uint8Array(1 << 20).fill(1)); } }`,
    metadata: small,
    ...OOM,
  },
  {
    title: 'one 400 MB typed array at a 128 MB limit',
    name: 'm-one-buffer',
    source: `export default { fetch() { const a = new Float64Array(5e7); return new Response(String(a.length)) } }`,
    // Zeroing 400 MB takes wall time: on a loaded machine the slice's timeout can come first (exceededCpu).
    status: 503,
    outcome: ['exceededMemory', 'exceededCpu'],
  },
  {
    // One allocation V8 cannot fit under the heap limit, and cannot refuse: it aborted the process until
    // the watchdog addon lent such an isolate 1 GB once and ended its slice (native/isolate-watchdog.cc).
    title: 'one 400 MB allocation: a 5e7-element sparse array turning dense',
    name: 'm-dense',
    source: `export default { fetch() { const a = new Array(5e7); for (let i = 0; i < 5e7; i++) a[i] = 1.5; return new Response(String(a.length)) } }`,
    metadata: { limits: { cpu_ms: 5_000 } },
    ...OOM,
  },
  {
    title: 'string doubling until V8 refuses',
    name: 'm-string-double',
    source: `export default { fetch() { let s = 'x'; for (;;) s = s + s; } }`,
    metadata: small,
    // V8's maximum string length (~512 MB) is reached as concatenation makes ropes: RangeError, uncaught.
    status: [500, 503],
    outcome: ['exception', 'exceededMemory'],
  },
  {
    title: 'deep recursion, uncaught',
    name: 'm-recursion',
    source: `export default { fetch() { const f = (n) => f(n + 1) + 1; return new Response(String(f(0))) } }`,
    status: 500,
    outcome: 'exception',
    code: 'ISO_ERR_WORKER_EXCEPTION',
  },
  {
    title: 'deep recursion, caught',
    name: 'm-recursion-caught',
    source: `export default { fetch() { const f = (n) => f(n + 1) + 1; try { f(0) } catch (e) { return new Response(e.constructor.name + ': ' + e.message) } } }`,
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      t.equal(reply.text, 'RangeError: Maximum call stack size exceeded', 'a RangeError the worker catches');
    },
  },
  {
    title: 'huge JSON.parse, results kept',
    name: 'm-json',
    source: `export default { fetch() { const s = '[' + '1234567.5,'.repeat(3e6) + '0]'; const keep = []; for (let i = 0; i < 50; i++) keep.push(JSON.parse(s)); return new Response(String(keep.length)) } }`,
    metadata: { limits: { memory_mb: 64, cpu_ms: 20_000 } },
    ...OOM,
  },
  {
    title: 'JSON.parse of a million nested arrays',
    name: 'm-json-nested',
    source: `export default { fetch() { const s = '['.repeat(1e6) + ']'.repeat(1e6); try { JSON.parse(s); return new Response('parsed') } catch (e) { return new Response(e.constructor.name) } } }`,
    metadata: { limits: { cpu_ms: 5_000 } },
    status: [200],
    outcome: 'ok',
    check(t, reply) {
      t.ok(['parsed', 'RangeError'].includes(reply.text), `parsed or a RangeError (${reply.text})`);
    },
  },
  {
    title: 'WebAssembly does not exist',
    name: 'm-wasm',
    source: `export default { fetch() { let compiled = 'no'; try { compiled = typeof new Function('return WebAssembly.compile')() } catch (e) { compiled = e.name } return new Response([typeof WebAssembly, typeof globalThis.WebAssembly, 'WebAssembly' in globalThis, compiled].join(' ')) } }`,
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      t.equal(reply.text, 'undefined undefined false ReferenceError');
    },
  },
];

// Cases that do not test the CPU limit get room above it, so that each ends by the limit it tests.
for (const c of cases) {
  c.metadata = { ...c.metadata, limits: { cpu_ms: 1_000, ...((c.metadata?.limits as object | undefined) ?? {}) } };
}

for (const c of cases) t.test(`memory: ${c.title}`, (t) => runHostile(t, arena, c));

t.test('after its memory blow-up a worker serves again with a fresh isolate', async (t) => {
  arena.begin('fresh isolate');
  const again = await arena.deploy('m-again', `let n = 0; export default { fetch(req) { if (new URL(req.url).pathname === '/boom') { const keep = []; for (;;) keep.push(new Uint8Array(1 << 20).fill(1)); } return new Response('alive ' + ++n) } }`, small);
  t.equal(again.status, 201);
  t.equal((await arena.hit('m-again', '/boom')).reply?.status, 503);
  t.equal((await arena.hit('m-again')).reply?.text, 'alive 1', 'a new isolate: module state starts over');
  await arena.settle();
  await assertNoGoodFailures(t, arena, 'fresh isolate');
});

t.test('no serving process ended during the memory suite', async (t) => {
  t.same(arena.exits(), [], 'every case ended in its own invocation');
});

t.test('good tenants under load saw zero failures', (t) =>
  finishArena(t, arena, cases.filter((c) => c.bug).map((c) => c.title)),
);

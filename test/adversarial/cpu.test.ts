/**
 * Hostile CPU burners uploaded through the admin API while two good workers on other hosts serve a
 * steady load: each must end exceededCpu (503 unless its response was already sent), and no good request
 * may fail.
 */
import t from 'tap';
import { Arena, assertNoGoodFailures, finishArena, runHostile, type HostileCase } from '../helpers/arena.ts';

const arena = await Arena.start(t);
const cpu = (cpuMs = 50) => ({ limits: { cpu_ms: cpuMs } });
const EXCEEDED = { status: 503, outcome: 'exceededCpu', code: 'ISO_ERR_WORKER_EXCEEDED_CPU' } as const;

const cases: HostileCase[] = [
  { title: 'sync infinite loop', name: 'h-sync-loop', source: `export default { fetch() { for (;;) {} } }`, metadata: cpu(), ...EXCEEDED },
  {
    title: 'loop after await',
    name: 'h-await-loop',
    source: `export default { async fetch() { await new Promise((r) => setTimeout(r, 5)); for (;;) {} } }`,
    metadata: cpu(),
    ...EXCEEDED,
  },
  {
    title: 'loop in a setTimeout callback',
    name: 'h-timer-loop',
    source: `export default { fetch() { return new Promise(() => setTimeout(() => { for (;;) {} }, 1)) } }`,
    metadata: cpu(),
    ...EXCEEDED,
  },
  {
    title: 'loop in a promise callback',
    name: 'h-promise-loop',
    source: `export default { fetch() { return Promise.resolve(1).then(() => { for (;;) {} }) } }`,
    metadata: cpu(),
    ...EXCEEDED,
  },
  {
    title: 'loop in waitUntil after the response',
    name: 'h-waituntil-loop',
    source: `export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise((r) => setTimeout(r, 5)).then(() => { for (;;) {} })); return new Response('sent first') } }`,
    metadata: cpu(),
    status: 200,
    outcome: 'exceededCpu',
    check(t, reply) {
      t.equal(reply.text, 'sent first', 'the response went out before the loop');
    },
  },
  {
    title: 'catastrophic regex /(a+)+$/',
    name: 'h-regex',
    source: `export default { fetch() { return new Response(String(/(a+)+$/.test('a'.repeat(40) + 'b'))) } }`,
    metadata: cpu(),
    ...EXCEEDED,
  },
  {
    title: 'Array(1e7).fill (80 MB, over the CPU limit)',
    name: 'h-fill-small',
    source: `export default { fetch() { const a = new Array(1e7).fill(1.5); return new Response(String(a.length)) } }`,
    metadata: cpu(),
    status: 503,
    outcome: ['exceededCpu', 'exceededMemory'],
  },
  {
    title: 'Array(5e7).fill (400 MB at a 128 MB limit)',
    name: 'h-fill-huge',
    source: `export default { fetch() { const a = new Array(5e7).fill(1.5); return new Response(String(a.length)) } }`,
    metadata: cpu(),
    status: 503,
    outcome: ['exceededCpu', 'exceededMemory'],
  },
  {
    title: 'huge BigInt power 3n ** 10000000n',
    name: 'h-bigint-pow',
    source: `export default { fetch() { const x = 3n ** 10000000n; return new Response(String(x & 1n)) } }`,
    metadata: cpu(),
    ...EXCEEDED,
    check(t, _reply, record) {
      // BigInt arithmetic ignores isolated-vm's interrupt; the watchdog stops it (src/limits/watchdog.ts).
      t.comment(`BigInt power charged ${((record?.cpuUs as number) / 1000).toFixed(0)} ms at a 50 ms limit`);
    },
  },
  {
    title: 'huge BigInt to string (2n ** 30000000n).toString()',
    name: 'h-bigint-string',
    source: `export default { fetch() { return new Response(String((2n ** 30000000n).toString().length)) } }`,
    metadata: cpu(),
    ...EXCEEDED,
    check(t, _reply, record) {
      // ~6.5 s uncut; the watchdog ends it 100 ms past the slice's timeout.
      const cpuMs = (record?.cpuUs as number) / 1000;
      t.ok(cpuMs < 1000, `BigInt toString stopped after ${cpuMs.toFixed(0)} ms of CPU at a 50 ms limit`);
    },
  },
  ...[
    ['sort', `new Array(5e7).sort()`],
    ['copyWithin', `new Array(5e7).copyWithin(1, 0)`],
    ['splice', `new Array(5e7).splice(0)`],
    ['forEach', `new Array(5e7).forEach(() => {})`],
    ['split', `'xy'.repeat(2 ** 26).split('y')`],
    // Built in one builtin call: 34 s at 2^26 characters; the watchdog ended the serving process at 6 s.
    ['replace', `'x'.repeat(2 ** 26).replace(/x/g, 'y')`],
    ['replaceAll', `'x'.repeat(2 ** 24).replaceAll('x', 'y')`],
    ['split-regexp', `'xy'.repeat(2 ** 25).split(/y/)`],
    // 11.8 s in one builtin call.
    ['typed-toLocaleString', `new Uint8Array(3e7).toLocaleString()`],
  ].map(
    ([method, expression]): HostileCase => ({
      // V8 ran these over every index without a check for interrupts (sort 5.4 s, copyWithin 5.0 s):
      // the runtime's own loops for huge lengths (runtime/global/interruptible/) are stopped at the limit.
      title: `${expression} (huge array, string or typed array)`,
      name: `h-huge-${method!.toLowerCase()}`,
      source: `export default { fetch() { return new Response(String(${expression}.length)) } }`,
      metadata: cpu(),
      ...EXCEEDED,
      check(t, _reply, record) {
        const cpuMs = (record?.cpuUs as number) / 1000;
        // Usually 60-90 ms. A collection of the isolate's heap (the split's 2^26-element array: ~0.5 GB)
        // cannot be stopped and is the tenant's CPU: 394 ms once in a CI run. The builtins took 1.5 s
        // (split) to 34 s.
        t.ok(cpuMs < 800, `${method} stopped after ${cpuMs.toFixed(0)} ms of CPU at a 50 ms limit`);
      },
    }),
  ),
  {
    // V8's JSON.parse ran ~130 ms on 7 MB of objects in one call that the limit cannot stop (~500 ms on
    // 14 MB); the runtime parses long texts in pieces it stops between. request.json() takes the same path.
    title: 'JSON.parse of 12 MB of objects made at top level',
    name: 'h-json-parse',
    source: `const text = JSON.stringify(Array.from({ length: 25e4 }, (_, i) => ({ id: i, name: 'n' + i, tags: ['a', 'b'] })));
export default { fetch() { return new Response(String(JSON.parse(text).length)) } }`,
    metadata: cpu(),
    ...EXCEEDED,
    check(t, _reply, record) {
      const cpuMs = (record?.cpuUs as number) / 1000;
      t.ok(cpuMs < 120, `stopped after ${cpuMs.toFixed(0)} ms of CPU at a 50 ms limit`);
    },
  },
  // As one host call, 96 MB of Shift_JIS decoded ~550 ms past a 60 ms limit, and after a first fix that
  // cut only after bytes below 0x30, 32 MB of 'A' 2.5x past it and ISO-2022-JP 4-8x (two reviews). A
  // decode() now goes to the host 1 MiB a call, the pieces sharing one decoder there. 96 MB each, so
  // that each needs well over the limit on a fast machine too (32 MB of 'A' decoded within 100 ms in a
  // CI run). The copy of the input before it takes ~40 ms: a 100 ms limit lets the calls start.
  ...([
    ['shift_jis', 'zeros', 'new Uint8Array(96 << 20)'],
    ['shift_jis', 'letters', 'new Uint8Array(96 << 20).fill(0x41)'],
    ['iso-2022-jp', 'letters', 'new Uint8Array(96 << 20).fill(0x41)'],
  ] as const).map(
    ([encoding, kind, bytes]): HostileCase => ({
      title: `TextDecoder('${encoding}') of ${bytes}`,
      name: `h-decode-${encoding.replace("_", "-")}-${kind}`,
      source: `export default { fetch() { return new Response(String(new TextDecoder('${encoding}').decode(${bytes}).length)) } }`,
      metadata: { limits: { cpu_ms: 100, memory_mb: 512 } },
      ...EXCEEDED,
      check(t, _reply, record) {
        const cpuMs = (record?.cpuUs as number) / 1000;
        t.ok(cpuMs < 200, `stopped after ${cpuMs.toFixed(0)} ms of CPU at a 100 ms limit`);
      },
    }),
  ),
  {
    title: 'Atomics.wait for 10 s, holding the thread',
    name: 'h-atomics-wait',
    source: `export default { fetch() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000); return new Response('woke') } }`,
    metadata: cpu(),
    // Forbidden in tenant isolates, as on a browser's main thread: a TypeError, uncaught.
    status: 500,
    outcome: 'exception',
    code: 'ISO_ERR_WORKER_EXCEPTION',
    check(t, _reply, record) {
      t.ok((record?.wallMs as number) < 1000, `answered after ${record?.wallMs} ms`);
    },
  },
];

for (const c of cases) t.test(`CPU: ${c.title}`, (t) => runHostile(t, arena, c));

t.test('CPU: huge BigInt to string in top-level code fails the deploy, not the process', async (t) => {
  arena.begin('top-level BigInt');
  const exitsBefore = arena.exits().length;
  const deployed = await arena.deploy('h-bigint-startup', `const digits = (2n ** 30000000n).toString(); export default { fetch() { return new Response(digits.slice(0, 3)) } }`);
  t.equal(deployed.status, 400, `deploy refused: ${deployed.status}`);
  t.match(deployed.text, /ISO_ERR_DEPLOY_STARTUP/);
  t.match(deployed.text, /startup limit/);
  await arena.settle();
  t.equal(arena.exits().length, exitsBefore, 'no serving process died');
  await assertNoGoodFailures(t, arena, 'top-level BigInt');
});

t.test('CPU: 800 ms of top-level code builds on the offload thread, not in front of the good tenants', async (t) => {
  // Under the 1 s startup limit, so the deploy succeeds. Built on the serving thread, it held every
  // good request of that process for as long (the top-level BigInt case above: 1.0-2.4 s).
  arena.begin('slow top-level code');
  const exitsBefore = arena.exits().length;
  const source = `const until = Date.now() + 800; let spins = 0; while (Date.now() < until) spins++; export default { fetch() { return new Response('started after ' + (spins > 0)) } }`;
  const deployed = await arena.deploy('h-slow-start', source);
  t.equal(deployed.status, 201, `deployed: ${deployed.status} ${deployed.text.slice(0, 200)}`);
  for (let i = 0; i < 4; i++) {
    const { reply } = await arena.hit('h-slow-start');
    t.equal(reply?.text, 'started after true', 'its requests are answered (from the offload thread, where it is warm)');
  }
  await arena.settle();
  t.equal(arena.exits().length, exitsBefore, 'no serving process died');
  const slowest = arena.slowestDuring('slow top-level code');
  t.ok(slowest < 500, `slowest good request during the deploy: ${slowest.toFixed(0)} ms (the top-level code ran 800 ms in each process)`);
  await assertNoGoodFailures(t, arena, 'slow top-level code');
});

t.test('CPU: a worker allowed 10 s of CPU computes 1.5 s per request on the offload thread, not in front of the good tenants', async (t) => {
  // Within its limit, so never "heavy" by overrunning it: on a serving thread each request would hold
  // that process's good requests for 1.5 s.
  arena.begin('long CPU limit');
  const source = `export default { fetch() { const until = Date.now() + 1500; let spins = 0; while (Date.now() < until) spins++; return new Response('computed ' + (spins > 0)) } }`;
  const deployed = await arena.deploy('h-long-cpu', source, { limits: { cpu_ms: 10_000 } });
  t.equal(deployed.status, 201, `deployed: ${deployed.status} ${deployed.text.slice(0, 200)}`);
  const answers = await Promise.all([arena.hit('h-long-cpu'), arena.hit('h-long-cpu'), arena.hit('h-long-cpu')]);
  for (const { reply } of answers) t.equal(reply?.text, 'computed true', 'each request is answered, within its limit');
  await arena.settle();
  const slowest = arena.slowestDuring('long CPU limit');
  t.ok(slowest < 500, `slowest good request meanwhile: ${slowest.toFixed(0)} ms (each of its requests computed 1.5 s)`);
  await assertNoGoodFailures(t, arena, 'long CPU limit');
});

t.test('the CPU abusers are still limited on their second request (isolate recycled or offloaded)', async (t) => {
  arena.begin('second requests');
  for (const name of ['h-sync-loop', 'h-regex']) {
    const { reply } = await arena.hit(name);
    t.equal(reply?.status, 503, `${name} again: ${reply?.status}`);
  }
  await arena.settle();
  await assertNoGoodFailures(t, arena, 'second requests');
});

t.test('good tenants under load saw zero failures', (t) =>
  finishArena(
    t,
    arena,
    cases.filter((c) => c.bug).map((c) => c.title),
  ),
);

/**
 * Escape attempts, uploaded through the admin API while two good workers on other hosts serve a steady
 * load: nothing of the host (process, require, host objects, host file paths) is reachable from tenant
 * code, one tenant cannot see or change another's globals or secrets, clocks are coarse, and the
 * platform never writes a tenant's secret into its own log lines.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { admin } from '../helpers/server.ts';
import { Arena, assertNoGoodFailures, finishArena, runHostile, type HostileCase } from '../helpers/arena.ts';

const arena = await Arena.start(t);
const HOST_PATHS = /\/work\/|node:internal|node_modules|\/src\/|\.ts\b|file:\/\//;

/** A worker body that runs `probe` (returns a JSON-able value) and answers it as JSON. */
const probeWorker = (probe: string) => `export default { async fetch(request, env, ctx) { const result = await (async () => { ${probe} })(); return Response.json(result) } }`;

const cases: HostileCase[] = [
  {
    title: 'process, require and friends do not exist',
    name: 'e-globals',
    source: probeWorker(`
      const kinds = {};
      for (const name of ['process', 'require', 'module', 'exports', 'global', 'Buffer', '__dirname', '__filename', 'setImmediate', 'WebAssembly', 'postMessage', 'MessageChannel', 'Worker', 'importScripts'])
        kinds[name] = eval('typeof ' + name);
      let imported;
      try { await import('node:fs'); imported = 'imported!' } catch (e) { imported = e.name }
      let importedBare;
      try { await import('fs'); importedBare = 'imported!' } catch (e) { importedBare = e.name }
      return { kinds, imported, importedBare, meta: Object.keys(import.meta ?? {}).filter((k) => k !== 'url') };
    `),
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      const { kinds, imported, importedBare } = reply.json();
      for (const [name, kind] of Object.entries(kinds as Record<string, string>)) t.equal(kind, 'undefined', `typeof ${name}`);
      t.not(imported, 'imported!', `import('node:fs') fails (${imported})`);
      t.not(importedBare, 'imported!', `import('fs') fails (${importedBare})`);
    },
  },
  {
    title: "Function('return this')() is the isolate's own global",
    name: 'e-this',
    source: probeWorker(`
      const g = Function('return this')();
      const g2 = (0, eval)('this');
      const g3 = Function('return (function () { return this })()')(); // sloppy code: this is the global
      return { same: g === globalThis && g2 === globalThis, sloppyThis: g3 === globalThis, process: typeof g.process, require: typeof g.require,
        hostish: Object.getOwnPropertyNames(g).filter((n) => /process|require|ivm|isolate|host|__isolane|dispatch$/i.test(n) && n !== 'dispatchEvent') };
    `),
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      t.same(reply.json(), { same: true, sloppyThis: true, process: 'undefined', require: 'undefined', hostish: [] });
    },
  },
  {
    title: 'constructor chains of every global and of what the runtime hands in stay in the isolate',
    name: 'e-constructors',
    source: probeWorker(`
      const realm = new Set([Function, Object.getPrototypeOf(async function () {}).constructor,
        Object.getPrototypeOf(function* () {}).constructor, Object.getPrototypeOf(async function* () {}).constructor]);
      const roots = { globalThis, request, headers: request.headers, signal: request.signal, env, ctx, secret: env.SECRET, json: env.CONFIG,
        response: new Response('x'), url: new URL(request.url), formData: new FormData(), stream: new ReadableStream(), abort: new AbortController() };
      const seen = new Set();
      const anomalies = [];
      let functions = 0;
      let objects = 0;
      const visit = (value, path, depth) => {
        if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
        seen.add(value);
        let root = value;
        while (Reflect.getPrototypeOf(root) !== null) root = Reflect.getPrototypeOf(root);
        if (root !== Object.prototype && root !== value) anomalies.push(path + ': object of another realm');
        if (typeof value === 'function') {
          functions++;
          if (!realm.has(value.constructor)) anomalies.push(path + '.constructor is foreign');
          else if (value.constructor === Function && value.constructor('return typeof process + typeof require')() !== 'undefinedundefined') anomalies.push(path + ': constructor reaches process');
          if (value.constructor && value.constructor.constructor !== Function) anomalies.push(path + '.constructor.constructor is not Function');
        } else {
          objects++;
          const ctor = value.constructor;
          if (typeof ctor === 'function' && ctor.constructor !== Function && !realm.has(ctor.constructor)) anomalies.push(path + '.constructor.constructor is foreign');
          if (typeof ctor === 'function' && ctor.constructor === Function) {
            const r = ctor.constructor('return typeof process')();
            if (r !== 'undefined') anomalies.push(path + '.constructor.constructor reaches process');
          }
        }
        if (depth >= 3) return;
        let keys = [];
        try { keys = Reflect.ownKeys(value) } catch { return }
        for (const key of keys) {
          if (typeof key === 'symbol') continue;
          let d;
          try { d = Reflect.getOwnPropertyDescriptor(value, key) } catch { continue }
          if (!d) continue;
          for (const v of [d.value, d.get, d.set]) visit(v, path + '.' + key, depth + 1);
        }
        try { visit(Reflect.getPrototypeOf(value), path + '.__proto__', depth + 1) } catch {}
      };
      for (const [name, value] of Object.entries(roots)) visit(value, name, 0);
      return { anomalies, functions, objects, ctxKeys: Reflect.ownKeys(ctx).map(String), envKeys: Reflect.ownKeys(env).map(String),
        oneLiner: typeof request.constructor.constructor('return globalThis.process')(), ctxLiner: typeof ctx.waitUntil.constructor('return globalThis.process')() };
    `),
    metadata: { limits: { cpu_ms: 2_000 }, bindings: [{ type: 'secret_text', name: 'SECRET', text: 'escape-secret' }, { type: 'json', name: 'CONFIG', json: { a: [1, { b: 2 }] } }] },
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      const r = reply.json();
      t.same(r.anomalies, [], `no foreign constructor among ${r.functions} functions and ${r.objects} objects`);
      t.equal(r.oneLiner, 'undefined', "request.constructor.constructor('return globalThis.process')() is undefined");
      t.equal(r.ctxLiner, 'undefined', 'the same from ctx.waitUntil');
      t.same(r.envKeys.sort(), ['CONFIG', 'SECRET'], 'env holds the bindings only');
      t.comment(`ctx keys: ${r.ctxKeys.join(', ')}; walked ${r.functions} functions, ${r.objects} objects`);
    },
  },
  {
    title: 'stack traces show no host file paths',
    name: 'e-stacks',
    source: probeWorker(`
      const stacks = {};
      stacks.plain = new Error('where').stack;
      const holder = {};
      Error.captureStackTrace(holder);
      stacks.captured = holder.stack;
      const frames = [];
      Error.prepareStackTrace = (error, callSites) => {
        for (const s of callSites) frames.push([String(s.getFileName()), String(s.getFunctionName()), typeof s.getThis(), typeof s.getFunction(), String(s.getEvalOrigin()), String(s.getScriptNameOrSourceURL?.())]);
        return 'prepared';
      };
      stacks.prepared = new Error('frames').stack;
      delete Error.prepareStackTrace;
      const fromRuntime = [() => new Headers([['bad name', 'x']]), () => new URL('not a url'), () => new Response(null, { status: 99 }), () => Response.json({ get x() { throw new Error('getter') } }),
        () => atob('***'), () => new TextDecoder('nope'), () => structuredClone(() => {}), () => crypto.getRandomValues(new Uint8Array(70000)), () => new Request('http://x', { method: 'GET', body: 'b' })];
      stacks.runtime = fromRuntime.map((f) => { try { f(); return 'no error' } catch (e) { return String(e && e.stack) } });
      try { await fetch('http://[::1'); } catch (e) { stacks.fetch = String(e.stack) }
      try { await new Response('{').json() } catch (e) { stacks.json = String(e.stack) }
      try { await new Promise((r, j) => setTimeout(() => j(new Error('in a timer')), 1)) } catch (e) { stacks.timer = e.stack }
      return { stacks, frames };
    `),
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      const { stacks, frames } = reply.json();
      const all = JSON.stringify(stacks);
      t.notMatch(all, HOST_PATHS, 'no host path in any stack');
      t.match(stacks.plain, /main\.js:\d+:\d+/, 'the tenant sees its own module names');
      for (const [file, fn, thisType, fnType] of frames as string[][]) {
        t.ok(file === 'main.js' || file.startsWith('isolane:') || file === 'null' || file === 'undefined', `frame file ${file} (${fn})`);
        if (file.startsWith('isolane:')) t.same([thisType, fnType], ['undefined', 'undefined'], `runtime frame ${fn} gives no this/function`);
      }
    },
  },
  {
    title: 'prototype pollution in worker A',
    name: 'e-polluter',
    source: `
      const OwnResponse = Response;
      Object.prototype.polluted = 'by A';
      Array.prototype.push = function () { return 'hijacked' };
      JSON.stringify = () => 'hijacked';
      globalThis.Response = function () { throw new Error('hijacked') };
      String.prototype.toString = () => 'hijacked';
      export default { fetch() { return new OwnResponse(({}).polluted + ' ' + [].push(1) + ' ' + JSON.stringify({})) } };
    `,
    status: 200,
    outcome: 'ok',
    async check(t, own) {
      t.equal(own.text, 'by A hijacked hijacked', "the pollution is live in worker A's own isolate");
      const { reply } = await arena.hit('e-clean');
      t.equal(reply?.status, 200, 'worker B answers');
      t.same(reply?.json(), { polluted: 'undefined', push: 2, stringify: '{"a":1}', response: 'function', toString: 'abc', then: 'undefined' }, "worker B's built-ins are untouched");
    },
  },
  {
    title: 'Object.prototype.then pollution (thenable hijack) in worker A',
    name: 'e-thenable',
    source: `Object.prototype.then = function (resolve) { resolve('hijacked') }; export default { fetch() { return new Response('then-polluted') } }`,
    status: [200, 500],
    outcome: ['ok', 'exception'],
    async check(t) {
      const { reply } = await arena.hit('e-clean');
      t.equal(reply?.json().then, 'undefined', "worker B's Object.prototype has no then");
    },
  },
  {
    title: "worker B cannot read worker A's env or secret",
    name: 'e-snoop',
    source: probeWorker(`
      const found = [];
      const look = (v) => { try { if (typeof v === 'string' && v.includes('tenant-a-secret')) found.push(v) } catch {} };
      for (const k of Reflect.ownKeys(globalThis)) { try { look(globalThis[k]) } catch {} }
      return { env: JSON.stringify(env), secret: typeof env.SECRET, other: env.SECRET_A ?? null, found };
    `),
    metadata: { bindings: [{ type: 'plain_text', name: 'MINE', text: 'tenant-b-value' }] },
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      t.same(reply.json(), { env: '{"MINE":"tenant-b-value"}', secret: 'undefined', other: null, found: [] });
    },
  },
  {
    title: 'SharedArrayBuffer + Atomics.wait for 10 s',
    name: 'e-atomics',
    source: `export default { fetch() { const cell = new Int32Array(new SharedArrayBuffer(4)); try { Atomics.wait(cell, 0, 0, 10000); return new Response('slept') } catch (e) { return new Response(e.name + ': ' + e.message) } } }`,
    // Sleeping on the serving thread is refused, as on a browser's main thread (src/limits/watchdog.ts).
    status: 200,
    outcome: 'ok',
    check(t, reply, record) {
      t.match(reply.text, /^TypeError: /, reply.text);
      t.ok((record?.wallMs as number) < 1_000, `answered after ${record?.wallMs} ms`);
    },
  },
  {
    title: 'SharedArrayBuffer cannot be shared with anyone',
    name: 'e-sab',
    source: probeWorker(`
      const sab = new SharedArrayBuffer(16);
      let cloned;
      try { cloned = structuredClone(sab) === sab ? 'same' : 'copy' } catch (e) { cloned = e.name }
      let sent;
      try { await fetch('http://127.0.0.1:1/', { method: 'POST', body: sab }); sent = 'sent' } catch (e) { sent = e.name }
      return { sab: typeof SharedArrayBuffer, atomics: typeof Atomics, postMessage: typeof postMessage, MessageChannel: typeof MessageChannel, BroadcastChannel: typeof BroadcastChannel, cloned, sent };
    `),
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      const r = reply.json();
      t.same([r.postMessage, r.MessageChannel, r.BroadcastChannel], ['undefined', 'undefined', 'undefined'], 'no channel to another isolate or thread');
      t.not(r.cloned, 'same', `structuredClone does not share it (${r.cloned})`);
      t.comment(`SharedArrayBuffer: ${r.sab}, Atomics: ${r.atomics}, structuredClone: ${r.cloned}, fetch body: ${r.sent}`);
    },
  },
  {
    title: 'clocks are coarse: performance.now() and Date.now() in whole milliseconds',
    name: 'e-clocks',
    source: probeWorker(`
      let fractional = 0; let samples = 0; let steps = 0; let smallestStep = Infinity; let last = performance.now();
      // Until the clock has stepped a few times (a busy machine may take the thread away for a while).
      const until = Date.now() + 300;
      while (steps < 5 && Date.now() < until) {
        const now = performance.now(); const date = Date.now(); samples++;
        if (!Number.isInteger(now) || !Number.isInteger(date)) fractional++;
        if (now !== last) { smallestStep = Math.min(smallestStep, now - last); last = now; steps++ }
      }
      return { samples, fractional, smallestStep, origin: Number.isInteger(performance.timeOrigin), hrtime: typeof process, event: Number.isInteger(new Event('x').timeStamp) };
    `),
    metadata: { limits: { cpu_ms: 1_000 } },
    status: 200,
    outcome: 'ok',
    check(t, reply) {
      const r = reply.json();
      t.equal(r.fractional, 0, `no fractional value in ${r.samples} samples of performance.now() and Date.now()`);
      t.ok(r.smallestStep >= 1, `smallest step ${r.smallestStep} ms`);
      t.ok(r.origin, 'performance.timeOrigin is whole milliseconds');
      t.ok(r.event, 'Event.timeStamp is whole milliseconds');
    },
  },
];

t.before(async () => {
  // Worker B of the pollution cases: reports what its built-ins look like.
  const res = await arena.deploy(
    'e-clean',
    probeWorker(`const a = [1]; return { polluted: typeof ({}).polluted, push: a.push(2), stringify: JSON.stringify({ a: 1 }), response: typeof Response, toString: 'abc'.toString(), then: typeof ({}).then };`),
  );
  if (res.status !== 201) throw new Error(res.text);
});

// Cases that do not test the CPU limit get room above it, so that each ends by the limit it tests.
for (const c of cases) {
  if (!['e-atomics'].includes(c.name)) c.metadata = { ...c.metadata, limits: { cpu_ms: 1_000, ...((c.metadata?.limits as object | undefined) ?? {}) } };
}

for (const c of cases) t.test(`escape: ${c.title}`, (t) => runHostile(t, arena, c));

t.test('the platform never writes a secret into its own log lines', async (t) => {
  arena.begin('secrets');
  const secret = `sk-${randomBytes(12).toString('hex')}`;
  const bindings = [{ type: 'secret_text', name: 'API_KEY', text: secret }];
  const throwers: [string, string][] = [
    ['s-keys', `export default { fetch(request, env) { throw new Error('env keys: ' + Object.keys(env).join(',')) } }`],
    ['s-call', `export default { fetch(request, env) { return env.API_KEY() } }`],
    ['s-reject', `export default { fetch(request, env, ctx) { ctx.waitUntil(Promise.reject(new TypeError('bad ' + Object.keys(env)))); return new Response('ok') } }`],
    ['s-cpu', `export default { fetch(request, env) { const k = env.API_KEY; for (;;) {} } }`],
    ['s-oom', `export default { fetch(request, env) { const keep = [env.API_KEY]; for (;;) keep.push(new Uint8Array(1 << 20).fill(1)) } }`],
    ['s-header', `export default { fetch(request, env) { return new Response('h', { headers: { 'x-k': env.API_KEY + '\\n' } }) } }`],
    ['s-fetch', `export default { async fetch(request, env) { await fetch('http://127.0.0.1:1/' + env.API_KEY, { headers: { authorization: env.API_KEY } }); return new Response('x') } }`],
    ['s-json', `export default { fetch(request, env) { return new Response(JSON.parse(env.API_KEY)) } }`],
  ];
  for (const [name, source] of throwers) {
    const res = await arena.deploy(name, source, { bindings, limits: { memory_mb: 16 } });
    t.equal(res.status, 201, `${name} deployed`);
    t.notMatch(res.text, secret, 'the deploy answer does not echo the secret');
    const { reply } = await arena.hit(name);
    t.ok(reply !== null, `${name} answered ${reply?.status}`);
    t.notMatch(reply?.text ?? '', secret, `${name}: the answer does not carry the secret`);
    await arena.record(name);
  }
  // A deploy that fails at startup with the secret in its error, and the admin API's views of the worker.
  const failing = await arena.deploy('s-startup', `throw new Error('boom'); export default { fetch() {} }`, { bindings });
  t.equal(failing.status, 400);
  for (const path of ['/v1/workers', '/v1/workers/s-keys', '/v1/workers/s-keys/versions', '/v1/workers/s-keys/usage', '/metrics']) {
    t.notMatch((await admin(arena.server, 'GET', path)).text, secret, `GET ${path} does not show the secret`);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const platformLines = arena.server.logs.filter((l) => l.type !== 'console');
  t.notOk(platformLines.some((l) => JSON.stringify(l).includes(secret)), `no platform log line (of ${platformLines.length}) holds the secret`);
  t.notMatch(arena.stderr, secret, 'nor does stderr');
  const workerLines = arena.server.logs.filter((l) => l.type === 'console' && String(l.worker).startsWith('s-'));
  const leaking = workerLines.filter((l) => JSON.stringify(l).includes(secret));
  // JSON.parse(secret) fails with V8's own message, which quotes the text: that lands in the worker's own log.
  t.same([...new Set(leaking.map((l) => l.worker))].filter((w) => w !== 's-json'), [], 'worker log lines hold the secret only where V8 quoted it in the worker\'s own error (s-json)');
  t.comment(`worker log lines quoting the secret: ${leaking.map((l) => `${l.worker}: ${String(l.message).slice(0, 80)}`).join(' | ') || 'none'}`);
  await arena.settle();
  await assertNoGoodFailures(t, arena, 'secrets');
});

t.test('good tenants under load saw zero failures', (t) => finishArena(t, arena, cases.filter((c) => c.bug).map((c) => c.title)));

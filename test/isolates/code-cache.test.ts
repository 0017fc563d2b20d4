/**
 * A version's modules compile from the thread's V8 code cache in its later isolates (isolated-vm alone
 * would ignore a module's cache), the cache is made again after a request, and a cache V8 rejects only
 * costs a compile.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ivm from '../../src/isolates/isolated-vm.ts';
import t from 'tap';
import { cachedCode, forgetVersionCache, moduleCacheKey, replaceCache } from '../../src/isolates/code-cache.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { exitOnCatastrophicError, PreparedIsolate, TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { runChunk } from '../../src/isolates/runtime-chunks.ts';
import { eagerCachesSettled } from '../../src/isolates/module-graph.ts';
import { warmRuntimeCache } from '../../src/isolates/runtime-warmup.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';

const bundle = await buildRuntimeBundle();
const CHILD = join(import.meta.dirname, '..', 'helpers', 'code-cache-child.ts');

// Enough functions that V8 compiles lazily, on the first request: the cache made after it is bigger.
const handlers = Array.from({ length: 40 }, (_, i) => `export function route${i}(n) { let s = 0; for (let j = 0; j < n; j++) s += j * ${i}; return s; }`).join('\n');
const version: Version = {
  id: 'cache-test-version',
  worker: 'cache-test',
  createdAt: new Date(0).toISOString(),
  syntax: 'module',
  main: 'main.js',
  modules: [
    {
      name: 'main.js',
      type: 'esm',
      content: `import * as routes from './routes.js';
export default { fetch(request) {
  let total = 0;
  for (const name of Object.keys(routes)) total += routes[name](3);
  return new Response(new URL(request.url).pathname + ' ' + total);
} };`,
    },
    { name: 'routes.js', type: 'esm', content: handlers },
  ],
  bindings: [],
  compatibilityDate: null,
  limits: { ...DEFAULT_LIMITS },
};

/** Builds an isolate of `of` and returns it with the body of its answer to one request. */
function serveOnce(of: Version = version): { tenant: TenantIsolate; body: string } {
  let body = '';
  const tenant = TenantIsolate.create(of, bundle, (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
    return undefined;
  });
  const slice = tenant.enter(['request', 1, 'GET', 'http://cache.test/hello', 'host\ncache.test', null], 1000);
  if (slice.failure) throw new Error(`request failed: ${slice.failure} ${slice.error ?? ''}`);
  return { tenant, body };
}

const cacheBytes = (name: string, of: Version = version) => cachedCode(moduleCacheKey(of.id, name))?.copy().byteLength ?? 0;

t.teardown(() => forgetVersionCache(version.id));

t.test('the first isolate compiles from source, later ones from the cache', async (t) => {
  const first = serveOnce();
  t.equal(first.tenant.modulesFromCache, 0);
  t.equal(first.body, `/hello ${3 * 780}`);
  t.ok(cacheBytes('main.js') > 0 && cacheBytes('routes.js') > 0, 'both modules have a cache');
  first.tenant.dispose();

  const second = serveOnce();
  t.equal(second.tenant.modulesFromCache, 2, 'both modules came from the cache');
  t.equal(second.body, `/hello ${3 * 780}`, 'and serve the same answer');
  second.tenant.dispose();
});

t.test('after a request the cache is made again, with the functions that request compiled', async (t) => {
  const { tenant } = serveOnce();
  const before = cacheBytes('routes.js');
  tenant.recacheCode();
  const after = cacheBytes('routes.js');
  t.ok(after > before * 1.5, `the cache grew with the compiled functions (${before} → ${after} bytes)`);
  tenant.dispose();

  // Made again in an isolate that has served nothing, it is as big only if isolated-vm's compile found the
  // module primeModule compiled from the cache (V8's compilation cache), with the functions in it.
  let body = '';
  const unserved = TenantIsolate.create(version, bundle, (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
    return undefined;
  });
  t.equal(unserved.modulesFromCache, 2, 'the next isolate compiles from the new cache');
  unserved.recacheCode();
  t.ok(cacheBytes('routes.js') >= after * 0.9, `and what it compiled holds those functions already (${cacheBytes('routes.js')} bytes)`);
  unserved.enter(['request', 1, 'GET', 'http://cache.test/hello', 'host\ncache.test', null], 1000);
  t.equal(body, `/hello ${3 * 780}`);
  unserved.dispose();
});

t.test('an isolate that has not served saves a cache of every function; it stays lazy itself, and remakes it with what it used', async (t) => {
  // 40 functions the request calls, and 40 no code ever calls.
  const unused = Array.from({ length: 40 }, (_, i) => `function unused${i}(n) { let s = ''; for (let j = 0; j < n; j++) s += String.fromCharCode(65 + ((j * ${i}) % 26)); return s; }`).join('\n');
  const deployed: Version = { ...version, id: 'cache-test-eager', modules: [version.modules[0]!, { name: 'routes.js', type: 'esm', content: `${handlers}\n${unused}` }] };
  t.teardown(() => forgetVersionCache(deployed.id));

  let body = '';
  const deploy = TenantIsolate.create(deployed, bundle, (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
    return undefined;
  }, null, undefined, true);
  const atCompile = cacheBytes('routes.js', deployed);
  deploy.cacheEveryFunction();
  await eagerCachesSettled();
  const atDeploy = cacheBytes('routes.js', deployed);
  t.ok(atDeploy > atCompile * 1.5, `made on isolated-vm's threads, the cache of every function replaced the deploy's (${atCompile} → ${atDeploy} bytes)`);

  const next = serveOnce(deployed);
  t.equal(next.tenant.modulesFromCache, 2, 'the next isolate compiles from the deploy\'s cache');
  t.equal(next.body, `/hello ${3 * 780}`);
  next.tenant.recacheCode();
  const remade = cacheBytes('routes.js', deployed);
  t.ok(remade <= atDeploy * 1.02, `its first request compiled nothing the cache did not hold (${atDeploy} → ${remade} bytes)`);
  t.ok(remade >= atDeploy * 0.98, 'and it holds every function, the unused ones too');
  next.tenant.dispose();

  deploy.enter(['request', 1, 'GET', 'http://cache.test/hello', 'host\ncache.test', null], 1000);
  t.equal(body, `/hello ${3 * 780}`, 'the deploy\'s own isolate serves');
  deploy.recacheCode();
  const used = cacheBytes('routes.js', deployed);
  t.ok(used < atDeploy * 0.8, `and, made again from it once it has served, the cache holds only what ran (${atDeploy} → ${used} bytes)`);
  deploy.dispose();
});

t.test('a cache V8 rejects is dropped and the module compiled from source', async (t) => {
  const garbage = new Uint8Array(4096).fill(7).buffer;
  replaceCache(moduleCacheKey(version.id, 'routes.js'), { cachedData: new ivm.ExternalCopy(garbage) });
  const { tenant, body } = serveOnce();
  t.equal(tenant.modulesFromCache, 1, 'only main.js came from the cache');
  t.equal(body, `/hello ${3 * 780}`, 'the worker still serves');
  tenant.dispose();

  t.ok(cacheBytes('routes.js') > 0, 'the compile that found it rejected made a new one');
  const next = serveOnce();
  t.equal(next.tenant.modulesFromCache, 2, 'which the next isolate uses');
  next.tenant.dispose();
});

t.test('another process compiles from the caches this one left on disk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolane-code-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = () => {
    const out = execFileSync(process.execPath, ['--no-node-snapshot', CHILD, dir], { encoding: 'utf8' });
    return JSON.parse(out) as { fromCache: number; body: string };
  };
  t.same(run(), { fromCache: 0, body: '42' }, 'the first process compiles from source');
  t.equal(readdirSync(join(dir, 'crossprocess0000000a')).length, 2, 'and leaves a cache per module');
  t.same(run(), { fromCache: 2, body: '42' }, 'the next compiles both modules from them');
});

t.test('runtime chunks compile from the cache the warm-up made after using them', async (t) => {
  warmRuntimeCache(bundle);
  t.ok(cachedCode('chunk:web-streams'), 'the warm-up used web streams and kept their cache');
  const prepared = PreparedIsolate.create(bundle, 128, exitOnCatastrophicError);
  t.teardown(() => prepared.dispose());
  t.equal(runChunk(prepared.isolate, prepared.context, prepared.dispatch, 'web-streams', bundle.chunks['web-streams']), true, 'compiled from it');

  let body = '';
  const tenant = TenantIsolate.create({ ...version, id: 'chunk-cache-version', modules: [{ name: 'main.js', type: 'esm', content: `export default { fetch() { const inner = new Response('through a stream'); return new Response(inner.body, inner) } }` }] }, bundle, (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
    return undefined;
  });
  t.teardown(() => forgetVersionCache('chunk-cache-version'));
  tenant.enter(['request', 1, 'GET', 'http://cache.test/', 'host\ncache.test', null], 1000);
  t.equal(body, 'through a stream', 'a worker that reads a body loads the chunk through the host and serves');
  tenant.dispose();
});

t.test('a service-worker script compiles from the cache too, and is remade after a request', async (t) => {
  const script: Version = {
    ...version,
    id: 'cache-test-script',
    syntax: 'service-worker',
    main: 'worker.js',
    modules: [{ name: 'worker.js', type: 'esm', content: `${handlers.replaceAll('export function', 'function')}\naddEventListener('fetch', (event) => { let total = 0; for (let i = 0; i < 40; i++) total += globalThis['route' + i](3); event.respondWith(new Response('script ' + total)); });` }],
  };
  t.teardown(() => forgetVersionCache(script.id));
  const serve = () => {
    let body = '';
    const tenant = TenantIsolate.create(script, bundle, (op, args) => {
      if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
      return undefined;
    });
    tenant.enter(['request', 1, 'GET', 'http://cache.test/', 'host\ncache.test', null], 1000);
    return { tenant, body };
  };
  const first = serve();
  t.equal(first.tenant.modulesFromCache, 0);
  t.equal(first.body, `script ${3 * 780}`);
  const before = cachedCode(moduleCacheKey(script.id, 'worker.js'))!.copy().byteLength;
  first.tenant.recacheCode();
  const after = cachedCode(moduleCacheKey(script.id, 'worker.js'))!.copy().byteLength;
  t.ok(after > before * 1.5, `remade with what the request compiled (${before} → ${after} bytes)`);
  first.tenant.dispose();
  const second = serve();
  t.equal(second.tenant.modulesFromCache, 1, 'the next isolate compiles it from the cache');
  t.equal(second.body, `script ${3 * 780}`);
  second.tenant.dispose();
});

t.test('a service-worker script that has not served gets a cache of every function too', async (t) => {
  const unused = Array.from({ length: 40 }, (_, i) => `function unused${i}(n) { let s = ''; for (let j = 0; j < n; j++) s += String.fromCharCode(65 + ((j * ${i}) % 26)); return s; }`).join('\n');
  const script: Version = {
    ...version,
    id: 'cache-test-script-eager',
    syntax: 'service-worker',
    main: 'worker.js',
    modules: [{ name: 'worker.js', type: 'esm', content: `${handlers.replaceAll('export function', 'function')}\n${unused}\naddEventListener('fetch', (event) => { let total = 0; for (let i = 0; i < 40; i++) total += globalThis['route' + i](3); event.respondWith(new Response('script ' + total)); });` }],
  };
  t.teardown(() => forgetVersionCache(script.id));
  const bytes = () => cachedCode(moduleCacheKey(script.id, 'worker.js'))?.copy().byteLength ?? 0;
  const build = () => {
    const answer = { body: '' };
    const tenant = TenantIsolate.create(script, bundle, (op, args) => {
      if (op === 'respond') answer.body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
      return undefined;
    }, null, undefined, true);
    return { tenant, answer };
  };

  const deploy = build();
  const atCompile = bytes();
  deploy.tenant.cacheEveryFunction();
  await eagerCachesSettled();
  const atDeploy = bytes();
  t.ok(atDeploy > atCompile * 1.5, `the cache of every function replaced the deploy's (${atCompile} → ${atDeploy} bytes)`);
  deploy.tenant.dispose();

  const next = build();
  t.equal(next.tenant.modulesFromCache, 1, 'the next isolate compiles the script from it');
  next.tenant.enter(['request', 1, 'GET', 'http://cache.test/', 'host\ncache.test', null], 1000);
  t.equal(next.answer.body, `script ${3 * 780}`);
  next.tenant.recacheCode();
  const remade = bytes();
  t.ok(remade >= atDeploy * 0.98 && remade <= atDeploy * 1.02, `its first request compiled nothing the cache did not hold (${atDeploy} → ${remade} bytes)`);
  next.tenant.dispose();
});

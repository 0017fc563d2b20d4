import t from 'tap';
import ivm from '../../src/isolates/isolated-vm.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { TestWorker } from './harness.ts';

t.test('the boot hook is gone after boot; the host callback is on no global', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  const hostish = `[typeof __isolaneBoot, Object.getOwnPropertyNames(globalThis).filter((n) => n !== 'dispatchEvent' && /isolane|boot|host|dispatch/i.test(n)),
             Object.getOwnPropertySymbols(globalThis).length]`;
  // Until a worker is installed, the hook the links of modules imported by name read (runtime/builtin-modules.ts).
  t.same(w.eval(hostish), ['undefined', ['__isolaneBuiltinModule'], 0], 'booted');
  w.deployModule(`export default { fetch: () => new Response('x') }`);
  t.same(w.eval(hostish), ['undefined', [], 0], 'installed');
});

t.test("the host's exit collection (src/isolates/isolated-vm.ts) gives no tenant a gc()", async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.same(w.eval(`[typeof gc, typeof globalThis.gc]`), ['undefined', 'undefined']);
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'nor the host');
});

t.test('the bundle defines __isolaneBoot as a non-enumerable global; boot works once', async (t) => {
  const { script: code } = await buildRuntimeBundle();
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  t.teardown(() => isolate.dispose());
  const context = isolate.createContextSync();
  isolate.compileScriptSync(code).runSync(context);
  t.same(
    context.evalSync(`const d = Object.getOwnPropertyDescriptor(globalThis, '__isolaneBoot'); [typeof d.value, d.enumerable, d.configurable]`, {
      copy: true,
    }),
    ['function', false, true],
  );
  const boot = context.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<(host: unknown) => unknown>;
  const dispatch = boot.applySync(undefined, [new ivm.Callback(() => {})], { result: { reference: true } }) as ivm.Reference;
  t.equal(dispatch.typeof, 'function');
  t.equal(context.evalSync('typeof __isolaneBoot'), 'undefined');
  t.throws(() => boot.applySync(undefined, [new ivm.Callback(() => {})]), /already booted/);
});

t.test('no function reachable from the global object forwards to the host or to dispatch', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default { fetch(request) { return new Response('handler ran for ' + request.url) } };
  `);
  const summary = w.eval(`
    (() => {
      const seen = new Set();
      const queue = [globalThis];
      let functions = 0;
      const probeRequest = ['request', 999999, 'GET', 'https://pwned.example/', '', null];
      const probeRespond = ['respond', 999999, 200, '', 'PWNED'];
      const swallow = (result) => { if (result instanceof Promise) result.catch(() => {}) };
      while (queue.length > 0) {
        const value = queue.shift();
        if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
        seen.add(value);
        queue.push(Object.getPrototypeOf(value));
        for (const key of Reflect.ownKeys(value)) {
          const d = Reflect.getOwnPropertyDescriptor(value, key);
          if (!d) continue;
          if ('value' in d) queue.push(d.value); else queue.push(d.get, d.set);
        }
        if (typeof value === 'function' && value !== Atomics.wait) {
          functions++;
          for (const args of [probeRequest, probeRespond]) {
            // Rejected promises are caught too: isolated-vm rethrows unhandled rejections from the call.
            try { swallow(value(...args)) } catch {}
            try { swallow(value.apply(undefined, args)) } catch {}
          }
        }
      }
      return { objects: seen.size, functions };
    })()
  `) as { objects: number; functions: number };
  t.ok(summary.functions > 300, `probed ${summary.functions} functions of ${summary.objects} objects`);
  const leaked = w.calls.filter((c) => c[1] === 999999 || (c[0] !== 'log' && JSON.stringify(c).includes('PWNED')));
  t.same(leaked, [], 'no host call for the probe');
});

t.test('runtime functions are strict: no fn.caller or CallSite.getFunction() reaches them', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployScript(`
    globalThis.observed = [];
    Error.prepareStackTrace = (error, callSites) => {
      observed.push(callSites.map((site) => [typeof site.getFunction(), typeof site.getThis()]));
      return 'custom';
    };
    function sloppyListener(event) {
      observed.push(['caller', sloppyListener.caller === null, typeof arguments.callee]);
      new Error('capture').stack;
      event.respondWith(new Response('ok'));
    }
    addEventListener('fetch', sloppyListener);
    setTimeout(function sloppyTimer() { observed.push(['timer caller', sloppyTimer.caller === null]) }, 1);
  `);
  t.equal(w.fetch('https://w.example/').body, 'ok');
  w.fireNextTimer();
  const observed = w.eval('observed') as unknown[];
  t.same(observed[0], ['caller', true, 'function']);
  const sites = observed[1] as [string, string][];
  // The listener's own frame is sloppy (visible); every runtime frame below it is strict (hidden).
  t.same(sites[0], ['function', 'object']);
  t.ok(sites.length > 1, 'the runtime frames are in the stack');
  t.same(sites.slice(1), sites.slice(1).map(() => ['undefined', 'undefined']));
  t.same(observed[2], ['timer caller', true]);
});

t.test('WebAssembly is removed; SharedArrayBuffer and Atomics stay', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.same(
    w.eval(`
      const sab = new SharedArrayBuffer(16);
      const view = new Int32Array(sab);
      const start = Date.now();
      const result = Atomics.wait(view, 0, 0, 20);
      [typeof WebAssembly, 'WebAssembly' in globalThis, typeof SharedArrayBuffer, typeof Atomics, result, Date.now() - start >= 15];
    `),
    ['undefined', false, 'function', 'object', 'timed-out', true],
  );
});

t.test('the expected globals exist with Web IDL property attributes', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  const names = [
    'self', 'navigator', 'console', 'DOMException', 'atob', 'btoa', 'queueMicrotask', 'reportError', 'structuredClone', 'setTimeout',
    'setInterval', 'clearTimeout', 'clearInterval', 'TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'Headers',
    'Request', 'Response', 'addEventListener', 'removeEventListener', 'dispatchEvent', 'Blob', 'File', 'FormData',
    'Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal', 'caches', 'Cache', 'CacheStorage',
    'ErrorEvent', 'MessageEvent', 'CloseEvent', 'PromiseRejectionEvent',
  ];
  const result = w.eval(`
    ${JSON.stringify(names)}.map((name) => {
      const d = Object.getOwnPropertyDescriptor(globalThis, name);
      return [name, d ? (typeof d.value === 'function' ? d.value.name : typeof (d.value ?? d.get)) : 'missing',
              d ? !!d.enumerable : null, d ? !!d.configurable : null];
    })
  `) as [string, string, boolean, boolean][];
  // Loaded on first use: accessors until then (lazy-modules.ts, url.ts).
  const lazy = ['URL', 'URLSearchParams', 'Blob', 'File', 'FormData', 'Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal', 'caches', 'Cache', 'CacheStorage', 'ErrorEvent', 'MessageEvent', 'CloseEvent', 'PromiseRejectionEvent'];
  for (const [name, shown, enumerable, configurable] of result) {
    const expected = ['self', 'navigator', 'console'].includes(name) ? 'object' : lazy.includes(name) ? 'function' : name;
    t.same([shown, enumerable, configurable], [expected, false, true], name);
  }
  t.same(w.eval(`[self === globalThis, navigator.userAgent, String(navigator)]`), [true, 'Cloudflare-Workers', '[object Navigator]']);
});

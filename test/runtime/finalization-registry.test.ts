/**
 * FinalizationRegistry in a tenant isolate (runtime/global/finalization-registry.ts): callbacks run for
 * targets collected, in the next entry after a garbage collection; unregister, the standard's errors, and
 * a callback that throws or never returns.
 */
import t, { type Test } from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();

/** A worker whose fetch runs `step(n)` for its n-th request and answers with what that returns. */
function worker(t: Test, steps: string) {
  const logs: string[] = [];
  let body = '';
  const version: Version = {
    id: 'finalization0000000' + Math.floor(Math.random() * 10),
    worker: 'fr',
    createdAt: new Date(0).toISOString(),
    syntax: 'module',
    main: 'main.js',
    modules: [{ name: 'main.js', type: 'esm', content: `let n = 0;\n${steps}\nexport default { fetch() { return new Response(String(step(++n))) } }` }],
    bindings: [],
    compatibilityDate: null,
    limits: { ...DEFAULT_LIMITS },
  };
  const tenant = TenantIsolate.create(version, runtime, (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : '';
    if (op === 'log') logs.push(String(args[1]));
    return undefined;
  });
  t.teardown(() => tenant.dispose());
  let id = 0;
  return {
    logs,
    request(): string {
      body = '';
      const result = tenant.enter(['request', ++id, 'GET', 'http://fr.test/', 'host\nfr.test', null], 1000);
      if (result.failure) throw new Error(`request failed: ${result.failure}`);
      return body;
    },
    /** The host's memory-reducing collection, as an idle isolate has it. */
    collect(): void {
      tenant.reduceMemory();
    },
  };
}

t.test('callbacks run for the targets collected, with their held values, once', async (t) => {
  const w = worker(t, `
    const called = [];
    const registry = new FinalizationRegistry((held) => called.push(held));
    let kept;
    function step(n) {
      if (n === 1) {
        for (let i = 0; i < 20; i++) registry.register({ i }, 'dropped' + i);
        kept = { kept: true };
        registry.register(kept, 'kept');
        return 'registered';
      }
      return called.length + ':' + called.includes('kept') + ':' + called.slice().sort()[0];
    }`);
  t.equal(w.request(), 'registered');
  t.equal(w.request(), '0:false:undefined', 'nothing before a collection');
  w.collect();
  t.equal(w.request(), '20:false:dropped0', 'after one, every collected target\'s callback ran; the one still reachable had none');
  w.collect();
  t.equal(w.request(), '20:false:dropped0', 'and none runs twice');
});

t.test('unregister removes what a token registered', async (t) => {
  const w = worker(t, `
    const called = [];
    const registry = new FinalizationRegistry((held) => called.push(held));
    const token = {};
    function step(n) {
      if (n === 1) {
        registry.register({}, 'a', token);
        registry.register({}, 'b', token);
        registry.register({}, 'c');
        return [registry.unregister(token), registry.unregister(token), registry.unregister({})].join();
      }
      return called.join();
    }`);
  t.equal(w.request(), 'true,false,false', 'true once for a token with registrations');
  w.collect();
  t.equal(w.request(), 'c', 'only the registration without the token calls back');
});

t.test('the standard\'s errors and shape', async (t) => {
  const w = worker(t, `
    function error(f) { try { f(); return 'no error' } catch (e) { return e.constructor.name } }
    function step() {
      const r = new FinalizationRegistry(() => {});
      const o = {};
      return [
        error(() => new FinalizationRegistry(42)),
        error(() => FinalizationRegistry(() => {})),
        error(() => r.register(1, 'x')),
        error(() => r.register(o, o)),
        error(() => r.register(o, 'x', 'not an object')),
        error(() => r.unregister(1)),
        error(() => r.register.call({}, o, 'x')),
        error(() => r.register(Symbol.for('registered'), 'x')),
        error(() => r.register(Symbol('unique'), 'x')),
        String(r.register(o, 'x', undefined)),
        Object.prototype.toString.call(r),
        FinalizationRegistry.length, r.register.length, r.unregister.length,
        r instanceof FinalizationRegistry,
        error(() => structuredClone(r)),
      ].join();
    }`);
  t.equal(
    w.request(),
    'TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,no error,undefined,[object FinalizationRegistry],1,2,1,true,DOMException',
  );
});

t.test('a callback that throws is reported as uncaught; the others still run', async (t) => {
  const w = worker(t, `
    const called = [];
    const registry = new FinalizationRegistry((held) => { called.push(held); if (held === 'bad') throw new Error('cleanup failed') });
    function step(n) {
      if (n === 1) { registry.register({}, 'bad'); registry.register({}, 'good'); return 'registered' }
      return called.sort().join();
    }`);
  w.request();
  w.collect();
  t.equal(w.request(), 'bad,good');
  t.ok(w.logs.some((line) => line.includes('Uncaught') && line.includes('cleanup failed')), 'the exception is logged');
});

t.test('a callback that never returns is stopped by the CPU limit of the invocation it runs in', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 30, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  const { load, invoke } = executorDriver(executor, 50, '/');
  load('spinner', `
    const registry = new FinalizationRegistry(() => { for (;;) {} });
    let n = 0;
    export default { fetch() { if (++n === 1) registry.register({}, 'x'); return new Response('request ' + n) } }`);
  const [first] = await executorEnds(messages, [invoke('spinner')]);
  t.equal(first!.outcome, 'ok');
  // Idle, the isolate has its memory-reducing collection; the next entry runs the callback.
  for (let i = 0; i < 200 && !messages.some((m) => m.t === 'memoryReduced'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(messages.some((m) => m.t === 'memoryReduced'), 'the idle isolate was collected');
  const [second] = await executorEnds(messages, [invoke('spinner')]);
  t.equal(second!.outcome, 'exceededCpu', 'the entry that ran it ended at its CPU limit');
  t.ok(second!.cpuUs >= 50_000 && second!.cpuUs < 1_000_000, `and was charged for it (${second!.cpuUs} µs)`);
  const [third] = await executorEnds(messages, [invoke('spinner')]);
  t.equal(third!.outcome, 'ok', 'the worker serves again, in a new isolate');
  const answer = messages.find((m): m is ResponseMessage => m.t === 'response' && m.id === 3);
  t.equal(answer?.body, 'request 1', 'whose state starts afresh');
});

/**
 * How invocations end and isolates go in the executor, where a review found leaks and stalls: the cancel
 * slice (abort listeners) within the invocation's CPU, an isolate too big for the pool still disposed,
 * a spare preparation that fails, and a batch whose requests run one by one after one of them waits.
 */
import t, { type Test } from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { PreparedIsolate, TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function newExecutor(t: Test, messages: FromExecutor[], maxMemoryBytes = 1e10): Executor {
  const executor = new Executor(runtime, { pool: { maxIsolates: 100, maxMemoryBytes, idleMs: 600_000 }, idleGcMs: 600_000, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  return executor;
}

const bodyOf = (messages: FromExecutor[], id: number) => messages.find((m): m is ResponseMessage => m.t === 'response' && m.id === id)?.body;

t.test('abort listeners run within what is left of the invocation\'s CPU; stopped there, the isolate goes', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load, invoke } = executorDriver(executor, 5, '/');
  load('listener', `
    let aborted = 0;
    export default { async fetch(request) {
      if (new URL(request.url).pathname === '/count') return new Response('aborted before: ' + aborted);
      request.signal.addEventListener('abort', () => { aborted++; for (;;) {} });
      await new Promise(() => {});
    } }`);
  await sleep(100);
  const id = invoke('listener');
  await sleep(20);
  const before = threadCpuUs();
  executor.handle({ t: 'cancel', id, outcome: 'canceled' });
  const heldMs = (threadCpuUs() - before) / 1000;
  const [end] = await executorEnds(messages, [id]);
  t.equal(end!.outcome, 'exceededCpu', 'a listener that spins ends the invocation at its CPU limit');
  t.ok(heldMs < 30, `the cancel held the thread ${heldMs.toFixed(1)} ms for a 5 ms limit (it was 50 ms)`);
  t.ok(end!.cpuUs > 3000, `and was charged (${end!.cpuUs} µs)`);
  const next = 100;
  executor.handle({ t: 'invoke', id: next, requestId: 'r100', worker: 'listener', versionId: 'listener', deadline: Date.now() + 5000, request: { method: 'GET', url: 'http://listener.test/count', headers: 'host\nlistener.test', body: null } });
  const [after] = await executorEnds(messages, [next]);
  t.equal(after!.cold, true, 'the next request starts a new isolate');
  t.equal(bodyOf(messages, next), 'aborted before: 0', 'with none of the stopped one\'s state');
});

t.test('an isolate bigger than the pool\'s whole memory bound serves, then is disposed', async (t) => {
  let created = 0;
  let disposed = 0;
  const create = TenantIsolate.create;
  const dispose = TenantIsolate.prototype.dispose;
  TenantIsolate.create = function (...args: Parameters<typeof create>) {
    created++;
    return create.apply(this, args);
  };
  TenantIsolate.prototype.dispose = function (this: TenantIsolate) {
    if (!this.disposed) disposed++;
    return dispose.call(this);
  };
  t.teardown(() => {
    TenantIsolate.create = create;
    TenantIsolate.prototype.dispose = dispose;
  });
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages, 16 * 1024 * 1024);
  const { load, invoke } = executorDriver(executor, 1000, '/');
  // ~24 MB kept by top-level code, against 16 MB for all the thread's warm isolates.
  load('big', `globalThis.keep = new Float64Array(3e6).fill(1); export default { fetch() { return new Response('hi') } }`);
  await sleep(100);
  const base = { created, disposed };
  for (let i = 0; i < 3; i++) {
    const [end] = await executorEnds(messages, [invoke('big')]);
    t.equal(end!.outcome, 'ok', `request ${i} served`);
    t.equal(end!.cold, true, 'by a cold start, since it cannot stay warm');
  }
  t.equal(created - base.created, 3, 'three isolates built');
  t.equal(disposed - base.disposed, 3, 'and all three disposed (they were kept by nobody before)');
});

t.test('a spare preparation that fails: the waiting cold start builds its own, and no retry spins', async (t) => {
  let failing = false;
  let attempts = 0;
  const prepare = PreparedIsolate.prepare;
  PreparedIsolate.prepare = (...args: Parameters<typeof prepare>) => {
    if (!failing) return prepare(...args);
    attempts++;
    return Promise.reject(new Error('simulated preparation failure'));
  };
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  t.teardown(() => {
    PreparedIsolate.prepare = prepare;
    process.off('warning', onWarning);
  });
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load, invoke } = executorDriver(executor, 1000, '/');
  await sleep(300); // the first spares are ready
  failing = true;
  // Four cold starts take the four spares; the fifth finds none.
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    load(`w${i}`, `export default { fetch() { return new Response('w${i}') } }`);
    ids.push(invoke(`w${i}`));
  }
  const ends = await executorEnds(messages, ids);
  t.same(ends.map((end) => end!.outcome), ['ok', 'ok', 'ok', 'ok', 'ok'], 'every cold start is served');
  await sleep(500);
  t.ok(attempts >= 1 && attempts <= 3, `preparations tried while they fail: ${attempts} (an immediate failure was retried every ~1 ms)`);
  t.ok(warnings.some((w) => w.includes('simulated preparation failure')), 'the failure is reported');
});

t.test('requests of a batch that run one by one start elsewhere when one before them is cut short', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load } = executorDriver(executor, 20, '/');
  load('batch', `
    const ran = [];
    export default { async fetch(request) {
      const path = new URL(request.url).pathname;
      ran.push(path);
      if (path === '/wait') await new Promise((resolve) => setTimeout(resolve, 30));
      if (path === '/spin') for (;;) {}
      return new Response('ran here: ' + ran.join(','));
    } }`);
  await sleep(100);
  let id = 0;
  const invokePath = (path: string) => {
    executor.handle({ t: 'invoke', id: ++id, requestId: `r${id}`, worker: 'batch', versionId: 'batch', deadline: Date.now() + 5000, request: { method: 'GET', url: `http://batch.test${path}`, headers: 'host\nbatch.test', body: null } });
    return id;
  };
  await executorEnds(messages, [invokePath('/warm')]);
  // One turn, one batch: /wait awaits, so the rest run one by one; /spin is stopped at its limit.
  const [, spin, c, d] = ['/wait', '/spin', '/c', '/d'].map(invokePath);
  const ends = await executorEnds(messages, [spin!, c!, d!]);
  t.equal(ends[0]!.outcome, 'exceededCpu');
  t.same([ends[1]!.outcome, ends[2]!.outcome], ['ok', 'ok'], 'the two after it are served, not canceled');
  t.equal(bodyOf(messages, c!), 'ran here: /c', 'in a new isolate');
  t.equal(bodyOf(messages, d!), 'ran here: /c,/d');
});

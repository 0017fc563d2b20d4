/**
 * A cold start that finds no spare isolate ready waits for the one being prepared (executor.ts #start).
 * While it waits, a cancel ends it, and an unload of its version (a redeploy) lets it be served by the
 * version it was routed to without keeping that version's isolate or code cache afterwards.
 */
import t, { type Test } from 'tap';
import { cachedCode, moduleCacheKey } from '../../src/isolates/code-cache.ts';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const runtime = await buildRuntimeBundle();
const handler = `export default { fetch() { return new Response('old version') } }`;

/** A new executor: its spares are prepared from a timer, so none is ready in the turn that made it. */
function newExecutor(t: Test, messages: FromExecutor[]): Executor {
  const executor = new Executor(runtime, { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 600_000, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  return executor;
}

t.test('a request waiting for a spare is served by its unloaded version, which is not kept', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load, invoke } = executorDriver(executor, 1000, '/');
  load('v1', handler);
  const id = invoke('v1');
  executor.handle({ t: 'unload', versionId: 'v1' });
  const [end] = await executorEnds(messages, [id]);
  t.equal(end!.outcome, 'ok', 'served');
  t.equal(end!.cold, true, 'by a cold start');
  t.ok(messages.some((m) => m.t === 'response' && m.id === id && m.status === 200), 'answered 200');
  t.equal(cachedCode(moduleCacheKey('v1', 'main.js')), undefined, 'the unloaded version\'s code cache was not kept');
  // Loaded again (a rollback to it): an isolate kept from before would serve warm.
  load('v1', handler);
  const [again] = await executorEnds(messages, [invoke('v1')]);
  t.equal(again!.cold, true, 'no isolate of the unloaded version was kept warm');
});

t.test('a cancel ends a request waiting for a spare before it starts', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load, invoke } = executorDriver(executor, 1000, '/');
  load('v2', `export default { fetch() { globalThis.ran = (globalThis.ran ?? 0) + 1; return new Response(String(globalThis.ran)) } }`);
  const canceled = invoke('v2');
  const served = invoke('v2');
  executor.handle({ t: 'cancel', id: canceled, outcome: 'canceled' });
  const [first, second] = await executorEnds(messages, [canceled, served]);
  t.equal(first!.outcome, 'canceled', 'the canceled one ends as canceled');
  t.equal(first!.cpuUs, 0, 'charged nothing: it never ran');
  t.notOk(messages.some((m) => m.t === 'response' && m.id === canceled), 'and is not answered');
  t.equal(second!.outcome, 'ok', 'the other is served');
  const response = messages.find((m): m is ResponseMessage => m.t === 'response' && m.id === served);
  t.equal(response?.body, '1', 'by the first request to run in the isolate');
});

t.test('a request waiting for a spare ends with its deleted worker, and never runs', async (t) => {
  const messages: FromExecutor[] = [];
  const executor = newExecutor(t, messages);
  const { load, invoke } = executorDriver(executor, 1000, '/');
  load('deleted', `export default { fetch() { return new Response('ran') } }`);
  load('kept', handler);
  const waiting = invoke('deleted');
  const other = invoke('kept');
  executor.handle({ t: 'forgetWorker', worker: 'deleted' });
  const [ended, served] = await executorEnds(messages, [waiting, other]);
  t.equal(ended!.outcome, 'canceled', 'the deleted worker\'s request ends as canceled');
  t.equal(ended!.cpuUs, 0, 'charged nothing');
  t.notOk(messages.some((m) => m.t === 'response' && m.id === waiting), 'and is not answered');
  t.equal(served!.outcome, 'ok', 'another worker\'s request waiting with it is served');
  // A spare is made ready meanwhile; the deleted worker's request must still not have started one.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(messages.filter((m) => m.t === 'end' && m.id === waiting).length, 1, 'ended once');
});

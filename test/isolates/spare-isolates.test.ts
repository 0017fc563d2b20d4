/**
 * Spare isolates (spare-isolates.ts) are prepared with PreparedIsolate.prepare, mostly on isolated-vm's
 * threads; a cold start that finds none ready waits for the one under way instead of building its own
 * on the serving thread (executor.ts). Real isolates, real runtime.
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { executorEnds } from '../helpers/executor-ends.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { SpareIsolates } from '../../src/isolates/spare-isolates.ts';
import { PreparedIsolate } from '../../src/isolates/tenant-isolate.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';

const runtime = await buildRuntimeBundle();

/** Isolates built on the calling thread (PreparedIsolate.create), and those prepared (PreparedIsolate.prepare). */
const built: PreparedIsolate[] = [];
const prepared: PreparedIsolate[] = [];
const create = PreparedIsolate.create;
const prepare = PreparedIsolate.prepare;
PreparedIsolate.create = (...args) => {
  const isolate = create(...args);
  built.push(isolate);
  return isolate;
};
PreparedIsolate.prepare = async (...args) => {
  const isolate = await prepare(...args);
  prepared.push(isolate);
  return isolate;
};
t.teardown(() => {
  PreparedIsolate.create = create;
  PreparedIsolate.prepare = prepare;
});

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function settled(spares: SpareIsolates): Promise<void> {
  for (let promise = spares.preparing(DEFAULT_LIMITS.memoryMb); promise; promise = spares.preparing(DEFAULT_LIMITS.memoryMb)) await promise;
}

t.test('spares are prepared off the call, booted, and only for the default memory limit', async (t) => {
  const spares = new SpareIsolates(runtime, 2);
  t.teardown(() => spares.close());
  t.notOk(spares.ready(DEFAULT_LIMITS.memoryMb), 'none at once: preparing starts from a timer');
  await tick(1);
  t.ok(spares.preparing(DEFAULT_LIMITS.memoryMb), 'a preparation under way');
  await settled(spares);
  t.ok(spares.ready(DEFAULT_LIMITS.memoryMb), 'ready once it ended');
  t.equal(spares.take(DEFAULT_LIMITS.memoryMb * 2), null, 'none for another memory limit');
  t.equal(spares.preparing(DEFAULT_LIMITS.memoryMb * 2), null, 'nor any to wait for');
  const spare = spares.take(DEFAULT_LIMITS.memoryMb)!;
  t.ok(spare instanceof PreparedIsolate);
  t.teardown(() => spare.dispose());
  const global = spare.context.global;
  t.equal(global.getSync('Response', { reference: true }).typeof, 'function', 'the runtime ran');
  t.equal(global.getSync('__isolaneBoot'), undefined, 'and was booted (the boot hook is gone)');
  t.equal(spare.dispatch.typeof, 'function', 'its dispatch is kept');
  t.equal(built.length, 0, 'nothing was built on the calling thread');
});

t.test('a cold start that finds the refill still waiting for its timer starts it, instead of building', async (t) => {
  const spares = new SpareIsolates(runtime, 1);
  t.teardown(() => spares.close());
  await tick(1);
  await settled(spares);
  const builtBefore = built.length;
  const preparedBefore = prepared.length;
  spares.take(DEFAULT_LIMITS.memoryMb)!.dispose();
  // take() set the refill's timer; nothing is under way yet.
  const preparing = spares.preparing(DEFAULT_LIMITS.memoryMb);
  t.ok(preparing, 'a preparation started at once');
  await preparing;
  t.ok(spares.ready(DEFAULT_LIMITS.memoryMb), 'and its spare is ready');
  t.equal(prepared.length, preparedBefore + 1, 'one preparation, not a second from the timer');
  t.equal(built.length, builtBefore, 'nothing was built on the calling thread');
  await tick(5);
  t.equal(prepared.length, preparedBefore + 1, 'the timer started none beyond the target');
});

t.test('a spare whose preparation ends after close() is disposed', async (t) => {
  const before = prepared.length;
  const spares = new SpareIsolates(runtime, 1);
  await tick(1);
  const preparing = spares.preparing(DEFAULT_LIMITS.memoryMb);
  t.ok(preparing, 'under way');
  spares.close();
  await preparing;
  t.equal(prepared.length, before + 1, 'it ended');
  t.ok(prepared.at(-1)!.isolate.isDisposed, 'and was disposed, not kept');
});

const version = (id: string): Version =>
  ({
    id,
    worker: id,
    createdAt: new Date().toISOString(),
    syntax: 'module',
    main: 'main.js',
    modules: [{ name: 'main.js', type: 'esm', content: `export default { fetch: (request) => new Response('${id} ' + new URL(request.url).pathname) }` }],
    bindings: [],
    compatibilityDate: null,
    limits: { ...DEFAULT_LIMITS },
  }) as unknown as Version;

function executor(t: { teardown(fn: () => void): void }, versions: Version[]) {
  const messages: FromExecutor[] = [];
  const options = { pool: { maxIsolates: 16, maxMemoryBytes: 1e9, idleMs: 60_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null };
  const executor = new Executor(runtime, options, (m) => messages.push(m));
  t.teardown(() => executor.close());
  for (const v of versions) executor.handle({ t: 'load', version: v });
  let id = 0;
  const invoke = (versionId: string, path: string) => {
    executor.handle({ t: 'invoke', id: ++id, requestId: `r${id}`, worker: versionId, versionId, deadline: Date.now() + 10_000, request: { method: 'GET', url: `http://x.localhost${path}`, headers: 'host\nx.localhost', body: null } });
    return id;
  };
  const ends = (ids: number[]) => executorEnds(messages, ids);
  const body = (id: number) => messages.find((m): m is ResponseMessage => m.t === 'response' && m.id === id)?.body;
  return { executor, invoke, ends, body };
}

t.test('a cold start that finds no spare ready waits for the one being prepared', async (t) => {
  const { invoke, ends, body } = executor(t, [version('a'), version('b')]);
  // The executor's first preparations start from a timer set when it was made: under way, none ready.
  await tick(1);
  built.length = 0;
  const ids = [invoke('a', '/one'), invoke('a', '/two'), invoke('b', '/three')];
  const ended = await ends(ids);
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok']);
  t.same(ids.map(body), ['a /one', 'a /two', 'b /three'], 'each answered by its own version');
  t.same(ended.map((e) => e.cold), [true, false, true], 'one cold start per version');
  t.equal(built.length, 0, 'no isolate was built on the serving thread: both versions took prepared spares');
});

t.test('an invocation waiting for a spare when the executor closes ends canceled', async (t) => {
  const { executor: ex, invoke, ends } = executor(t, [version('c')]);
  await tick(1);
  const id = invoke('c', '/');
  ex.close();
  const [ended] = await ends([id]);
  t.equal(ended!.outcome, 'canceled');
  t.equal(ended!.cpuUs, 0, 'it never ran');
});

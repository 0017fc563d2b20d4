/** Idle isolates give their spare memory back once per idle period, oldest first, never while in use. */
import t from 'tap';
import { MemoryReducer } from '../../src/isolates/memory-reducer.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { exitOnCatastrophicError, PreparedIsolate } from '../../src/isolates/tenant-isolate.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class FakeIsolate {
  inflight = 0;
  disposed = false;
  peakMemoryBytes = 1024 * 1024;
  readonly name: string;
  readonly log: string[];
  constructor(name: string, log: string[]) {
    this.name = name;
    this.log = log;
  }
  reduceMemory(): number {
    this.log.push(this.name);
    return 7;
  }
}

t.test('each idle isolate is reduced once, oldest first, after the idle delay', async (t) => {
  const log: string[] = [];
  const charged: number[] = [];
  const reducer = new MemoryReducer<FakeIsolate>(100, (cpuUs) => charged.push(cpuUs));
  t.teardown(() => reducer.close());
  const [a, b, c] = ['a', 'b', 'c'].map((n) => new FakeIsolate(n, log)) as [FakeIsolate, FakeIsolate, FakeIsolate];
  reducer.idle(a);
  reducer.idle(b);
  reducer.idle(c);
  reducer.idle(a); // used again: now the newest
  await sleep(40);
  t.same(log, [], 'nothing before the delay');
  await sleep(300);
  t.same(log, ['b', 'c', 'a']);
  t.same(charged, [7, 7, 7], 'each reduction is reported with its CPU');
  await sleep(200);
  t.same(log, ['b', 'c', 'a'], 'once per idle period');
});

t.test('an isolate in use, disposed, or with a big heap is not reduced', async (t) => {
  const log: string[] = [];
  const reducer = new MemoryReducer<FakeIsolate>(50, () => {});
  t.teardown(() => reducer.close());
  const busy = new FakeIsolate('busy', log);
  const gone = new FakeIsolate('gone', log);
  const running = new FakeIsolate('running', log);
  const idle = new FakeIsolate('idle', log);
  reducer.idle(busy);
  reducer.busy(busy); // a request came in
  reducer.idle(gone);
  gone.disposed = true;
  reducer.idle(running);
  running.inflight = 1;
  const big = new FakeIsolate('big', log);
  big.peakMemoryBytes = 64 * 1024 * 1024;
  reducer.idle(big);
  reducer.idle(idle);
  await sleep(250);
  t.same(log, ['idle']);
});

t.test('0 turns it off', async (t) => {
  const log: string[] = [];
  const reducer = new MemoryReducer<FakeIsolate>(0, () => {});
  reducer.idle(new FakeIsolate('a', log));
  await sleep(50);
  t.same(log, []);
  reducer.close();
});

t.test("a real isolate's reduceMemory gives its young generation's second half back", async (t) => {
  const bundle = await buildRuntimeBundle();
  const prepared = PreparedIsolate.create(bundle, 128, exitOnCatastrophicError);
  t.teardown(() => prepared.dispose());
  t.ok(prepared.reduceMemory, 'the addon provides reduceMemory (built against the server Node headers)');
  // Short-lived garbage: scavenges use (and commit) both semi-spaces.
  prepared.context.evalSync('for (let i = 0; i < 200000; i++) globalThis.last = { i, s: "x" + i }');
  const before = prepared.isolate.getHeapStatisticsSync();
  prepared.reduceMemory!.applySync();
  const after = prepared.isolate.getHeapStatisticsSync();
  t.ok(after.total_heap_size < before.total_heap_size - 512 * 1024, `committed heap ${before.total_heap_size} → ${after.total_heap_size} bytes`);
  t.equal(prepared.context.evalSync('globalThis.last.i'), 199999, 'live objects survive');
});

/** Idle isolates give their spare memory back once per idle period, oldest first, one at a time, never while in use. */
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
  /** How long its reduction takes (it runs on isolated-vm's threads: the caller waits for a promise). */
  takesMs = 1;
  async reduceMemory(): Promise<number> {
    this.log.push(this.name);
    await sleep(this.takesMs);
    this.log.push(`${this.name} done`);
    return 7;
  }
}

const started = (log: string[]) => log.filter((entry) => !entry.endsWith(' done'));

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
  t.same(started(log), ['b', 'c', 'a']);
  t.same(charged, [7, 7, 7], 'each reduction is reported with its CPU');
  await sleep(200);
  t.same(started(log), ['b', 'c', 'a'], 'once per idle period');
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
  t.same(started(log), ['idle']);
});

t.test('one reduction at a time: the next starts after the last has ended, and a pause after it', async (t) => {
  const log: string[] = [];
  const reducer = new MemoryReducer<FakeIsolate>(20, () => {});
  t.teardown(() => reducer.close());
  const [a, b] = ['a', 'b'].map((n) => new FakeIsolate(n, log)) as [FakeIsolate, FakeIsolate];
  a.takesMs = 60;
  b.takesMs = 5;
  const startedAt = new Map<string, number>();
  const endedAt = new Map<string, number>();
  for (const isolate of [a, b]) {
    const run = isolate.reduceMemory.bind(isolate);
    isolate.reduceMemory = async () => {
      startedAt.set(isolate.name, performance.now());
      const cpuUs = await run();
      endedAt.set(isolate.name, performance.now());
      return cpuUs;
    };
  }
  reducer.idle(a);
  reducer.idle(b);
  while (!endedAt.has('b')) await sleep(20);
  t.same(log, ['a', 'a done', 'b', 'b done'], 'never two at once');
  const pause = startedAt.get('b')! - endedAt.get('a')!;
  t.ok(pause >= 60 * 2, `b waited ${pause.toFixed(0)} ms after a's 60 ms (three times its length, less timer slack)`);
});

t.test('0 turns it off', async (t) => {
  const log: string[] = [];
  const reducer = new MemoryReducer<FakeIsolate>(0, () => {});
  reducer.idle(new FakeIsolate('a', log));
  await sleep(50);
  t.same(log, []);
  reducer.close();
});

t.test("a real isolate's reduceMemory, run on isolated-vm's threads, gives its young generation's second half back", async (t) => {
  const bundle = await buildRuntimeBundle();
  const prepared = PreparedIsolate.create(bundle, 128, exitOnCatastrophicError);
  t.teardown(() => prepared.dispose());
  t.ok(prepared.reduceMemory, 'the addon provides reduceMemory (built against the server Node headers)');
  // Short-lived garbage: scavenges use (and commit) both semi-spaces.
  prepared.context.evalSync('for (let i = 0; i < 200000; i++) globalThis.last = { i, s: "x" + i }');
  const before = prepared.isolate.getHeapStatisticsSync();
  // As the executor calls it: on isolated-vm's threads, this one free meanwhile.
  await prepared.reduceMemory!.apply();
  const after = prepared.isolate.getHeapStatisticsSync();
  t.ok(after.total_heap_size < before.total_heap_size - 512 * 1024, `committed heap ${before.total_heap_size} → ${after.total_heap_size} bytes`);
  t.equal(prepared.context.evalSync('globalThis.last.i'), 199999, 'live objects survive');
});

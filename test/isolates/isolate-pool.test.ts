/**
 * The warm-isolate pool's bounds (src/isolates/isolate-pool.ts) with stand-in isolates: count, memory,
 * and the memory mappings their number and heap size take (src/limits/map-count.ts).
 */
import t from 'tap';
import { IsolatePool, type PooledIsolate } from '../../src/isolates/isolate-pool.ts';
import { isolateMappingBudget, mappingsOf } from '../../src/limits/map-count.ts';

const MB = 1024 * 1024;

class Fake implements PooledIsolate {
  inflight = 0;
  retiring = false;
  disposed = false;
  bytes: number;
  constructor(bytes: number) {
    this.bytes = bytes;
  }
  memoryBytes(): number {
    return this.bytes;
  }
  dispose(): void {
    this.disposed = true;
  }
}

function fill(pool: IsolatePool<Fake>, count: number, bytes: number): Fake[] {
  const made: Fake[] = [];
  for (let i = 0; i < count; i++) {
    const isolate = new Fake(bytes);
    pool.add(`v${i}`, isolate);
    made.push(isolate);
  }
  return made;
}

t.test('mappings: 8 per isolate plus one per 256 KB of heap; the isolates get 80% of vm.max_map_count', async (t) => {
  t.equal(mappingsOf(1, 1 * MB), 12, 'a small isolate, as measured');
  t.equal(mappingsOf(100, 0), 800);
  t.equal(mappingsOf(10, 39 * MB), 10 * 8 + 156);
  t.equal(isolateMappingBudget(65_530), 52_424);
  t.equal(isolateMappingBudget(null), null, 'no bound where the OS has none');
});

t.test('the pool keeps its isolates within its mapping budget, least recently used out first', async (t) => {
  // 1 MB isolates take 12 mappings each: 120 fit 10 of them.
  const pool = new IsolatePool<Fake>({ maxIsolates: 1000, maxMemoryBytes: 1024 * MB, idleMs: 60_000, maxMappings: 120 });
  t.teardown(() => pool.close());
  const made = fill(pool, 15, 1 * MB);
  t.same(made.map((f) => f.disposed), [...Array(5).fill(true), ...Array(10).fill(false)], 'the 5 oldest were disposed');
  t.equal(pool.get('v14'), made[14]);
  t.equal(pool.get('v4'), undefined);
  t.equal(pool.size, 10);
  t.equal(pool.evicted, 5, 'evictions are counted');
  pool.remove('v14');
  t.equal(pool.size, 9);
  t.equal(pool.evicted, 5, 'an unload is not an eviction');

  // One of them grows to 39 MB: 156 pages more, so others make room, the newest use kept.
  pool.get('v5');
  made[5]!.bytes = 39 * MB;
  pool.remeasure('v5', made[5]!, 39 * MB);
  t.ok(made[5]!.disposed === false, 'the isolate that grew stays (it was used last)');
  t.ok(made.filter((f) => !f.disposed).length <= 2, 'the others made room for its pages');
});

t.test('an isolate in use when it is evicted retires: disposed when its invocations end, not before', async (t) => {
  const pool = new IsolatePool<Fake>({ maxIsolates: 1000, maxMemoryBytes: 1024 * MB, idleMs: 60_000, maxMappings: 24 });
  t.teardown(() => pool.close());
  const busy = new Fake(1 * MB);
  busy.inflight = 1;
  pool.add('busy', busy);
  fill(pool, 2, 1 * MB);
  t.equal(busy.disposed, false);
  t.equal(busy.retiring, true);
});

t.test('the memory bound follows an isolate that grows after it was added', async (t) => {
  const pool = new IsolatePool<Fake>({ maxIsolates: 1000, maxMemoryBytes: 10 * MB, idleMs: 60_000, maxMappings: null });
  t.teardown(() => pool.close());
  const made = fill(pool, 5, 1 * MB);
  t.equal(made.filter((f) => f.disposed).length, 0, '5 MB of 10');
  pool.get('v4');
  made[4]!.bytes = 8 * MB;
  pool.remeasure('v4', made[4]!, 8 * MB);
  t.same(
    made.map((f) => f.disposed),
    [true, true, false, false, false],
    '12 MB: the two least recently used made room (10 MB)',
  );
  t.equal(pool.get('v4'), made[4], 'the isolate that grew is still the one served');
  pool.remeasure('v4', made[4]!, 8.5 * MB);
  t.equal(made[3]!.disposed, false, 'a change under a quarter is not re-counted');
});

t.test('without a mapping budget only count and memory bound the pool', async (t) => {
  const pool = new IsolatePool<Fake>({ maxIsolates: 1000, maxMemoryBytes: 1024 * MB, idleMs: 60_000, maxMappings: null });
  t.teardown(() => pool.close());
  const made = fill(pool, 500, 1 * MB);
  t.equal(made.filter((f) => f.disposed).length, 0);
});

/** The Cache API's host storage: bounds, and what a subverted runtime could send. */
import t from 'tap';
import { MAX_ENTRY_BYTES, MAX_TOTAL_BYTES, WorkerCaches } from '../../src/isolates/worker-caches.ts';

const response = (bytes: number, headers = 'cache-control\nmax-age=60') => ({ status: 200, headers, body: new ArrayBuffer(bytes) });

t.test('an entry over MAX_ENTRY_BYTES is not stored; the total stays under MAX_TOTAL_BYTES, oldest out first', async (t) => {
  const caches = new WorkerCaches();
  t.equal(caches.put('w', '', 'https://a/big', response(MAX_ENTRY_BYTES + 1)), false);
  t.equal(caches.match('w', '', 'https://a/big'), null);
  const each = 4 * 1024 * 1024;
  const count = (MAX_TOTAL_BYTES / each) * 2;
  for (let i = 0; i < count; i++) t.equal(caches.put('w', '', `https://a/${i}`, response(each)), true);
  t.ok(caches.bytes <= MAX_TOTAL_BYTES, `${caches.bytes} bytes kept`);
  t.equal(caches.match('w', '', 'https://a/0'), null, 'the first one out');
  t.not(caches.match('w', '', `https://a/${count - 1}`), null, 'the last one kept');
});

t.test('what a subverted runtime could send is refused, not stored', async (t) => {
  const caches = new WorkerCaches();
  const bad: [string, string, unknown][] = [
    ['', 'https://a/', { status: 1000, headers: '', body: new ArrayBuffer(1) }],
    ['', 'https://a/', { status: 200.5, headers: '', body: new ArrayBuffer(1) }],
    ['', 'https://a/', { status: 200, headers: 42, body: new ArrayBuffer(1) }],
    ['', 'https://a/', { status: 200, headers: '', body: 'not bytes' }],
    ['', 'x'.repeat(20_000), response(1)],
    ['c'.repeat(2000), 'https://a/', response(1)],
  ];
  for (const [cache, url, value] of bad) t.equal(caches.put('w', cache, url, value as never), false);
  t.equal(caches.bytes, 0);
});

t.test('forgetWorker drops that worker only', async (t) => {
  const caches = new WorkerCaches();
  caches.put('a', '', 'https://x/', response(1));
  caches.put('a', 'named:n', 'https://x/', response(1));
  caches.put('ab', '', 'https://x/', response(1));
  caches.forgetWorker('a');
  t.equal(caches.match('a', '', 'https://x/'), null);
  t.equal(caches.match('a', 'named:n', 'https://x/'), null);
  t.not(caches.match('ab', '', 'https://x/'), null, "a worker whose name starts with it keeps its own");
});

t.test("an empty entry is charged at least what it costs the heap (the count of small entries is bounded by memory)", async (t) => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const caches = new WorkerCaches();
  const count = 50_000;
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < count; i++) caches.put('w', '', `https://a/${i}`, response(0, ''));
  gc();
  const after = process.memoryUsage();
  const costPerEntry = (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / count;
  const chargedPerEntry = caches.bytes / count;
  t.ok(chargedPerEntry >= costPerEntry, `charged ${chargedPerEntry.toFixed(0)} bytes an entry, costing ${costPerEntry.toFixed(0)} of heap`);
});

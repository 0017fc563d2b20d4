/**
 * Array.prototype.fill in chunks (runtime/global/interruptible-fill.ts) behaves as the builtin: the same
 * cases run in Node's own realm and inside a real isolate give the same answers.
 */
import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

const CASES = `
  const calls = [];
  const counted = (name, value) => ({ valueOf() { calls.push(name); return value } });
  const big = new Array(40000).fill(7);
  const sparse = new Array(100000).fill('x', 99990);
  return [
    [1, 2, 3, 4, 5].fill(0),
    [1, 2, 3, 4, 5].fill(0, 1),
    [1, 2, 3, 4, 5].fill(0, -2),
    [1, 2, 3, 4, 5].fill(0, 1, -1),
    [1, 2, 3, 4, 5].fill(0, NaN, 2),
    [1, 2, 3, 4, 5].fill(0, 3, 1),
    [1, 2, 3, 4, 5].fill(0, -10, 10),
    [1, 2, 3, 4, 5].fill(0, Infinity),
    [1, 2, 3, 4, 5].fill(0, '1', '3'),
    [1, 2, 3].fill(0, counted('start', 1), counted('end', 2)), calls,
    Array.prototype.fill.call({ length: 3 }, 'g'),
    Array.prototype.fill.call({ length: '2', 5: 'kept' }, 'g'),
    Array.prototype.fill.call({ length: -1 }, 'g'),
    [big.length, big.every((v) => v === 7), Object.keys(big).length],
    [sparse.length, Object.keys(sparse).length, sparse[99989], sparse[99999]],
    (() => { try { Array.prototype.fill.call(null, 1); return 'no error' } catch (e) { return e.constructor.name } })(),
    [Array.prototype.fill.name, Array.prototype.fill.length, Object.getOwnPropertyDescriptor(Array.prototype, 'fill').enumerable],
  ];
`;

t.test('fill gives the builtin answers', async (t) => {
  const expected = new Function(CASES)();
  t.same(ev.run(CASES), JSON.parse(JSON.stringify(expected)));
});

t.test('a fill over 50 million sparse elements is cut at the CPU limit instead of running for seconds', async (t) => {
  // The builtin alone runs ~5 s past any timeout while its heap grows. Chunked, the 20 ms timeout stops
  // it long before the dictionary behind the sparse array outgrows the heap (a fatal OOM, which the
  // serving processes turn into an exit: test/adversarial/memory.test.ts).
  const worker = await TestWorker.create(128);
  t.teardown(() => worker.dispose());
  const started = performance.now();
  const script = worker.isolate.compileScriptSync(`new Array(5e7).fill(1.5).length`);
  t.throws(() => script.runSync(worker.context, { timeout: 20 }), /timed out/);
  const ms = performance.now() - started;
  t.ok(ms < 1000, `stopped after ${ms.toFixed(0)} ms (timeout 20 ms)`);
});

import t from 'tap';
import { WorkUnderWay } from '../../src/isolates/work-under-way.ts';

/** A promise and the functions that settle it. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A tracker with two pieces of work under way, and the functions that end them. */
function twoUnderWay() {
  const work = new WorkUnderWay();
  const a = deferred();
  const b = deferred();
  work.add(a.promise);
  work.add(b.promise);
  return { work, a, b };
}

t.test('work is counted until it settles, and settled() waits for all of it, failed or not', async (t) => {
  const { work, a, b } = twoUnderWay();
  t.equal(work.size, 2);
  let allSettled = false;
  const settled = work.settled().then(() => (allSettled = true));
  a.reject(new Error('failed'));
  await a.promise.catch(() => {});
  await new Promise((r) => setImmediate(r));
  t.equal(work.size, 1, 'the failed one is no longer under way');
  t.notOk(allSettled, 'settled() still waits for the other');
  b.resolve();
  await settled;
  t.equal(work.size, 0);
  await work.settled();
});

t.test('first() settles with the first piece to end', async (t) => {
  const { work, a, b } = twoUnderWay();
  let first = false;
  const firstEnded = work.first().then(() => (first = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(first);
  b.resolve();
  await firstEnded;
  t.equal(work.size, 1);
  a.resolve();
});

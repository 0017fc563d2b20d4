import t from 'tap';
import { TestWorker } from './harness.ts';

t.test('setTimeout arms a host timer; the response waits for it', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      fetch(request) {
        return new Promise((resolve) => setTimeout((a, b) => resolve(new Response(a + b)), 25, 'x', 'y'));
      },
    };
  `);
  const id = w.send('https://t.example/');
  t.same([...w.timers], [[1, 25]], 'one host timer of 25 ms');
  t.same(w.answerOf(id), { id, done: false }, 'no answer before the timer fires');
  t.ok(w.fireNextTimer());
  const answer = w.answerOf(id);
  t.equal(answer.body, 'xy');
  t.equal(answer.done, true);
});

t.test('setInterval re-arms until clearInterval; clearTimeout cancels', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      fetch() {
        return new Promise((resolve) => {
          const ticks = [];
          const cancelled = setTimeout(() => ticks.push('never'), 5);
          clearTimeout(cancelled);
          const id = setInterval(() => {
            ticks.push(ticks.length);
            if (ticks.length === 3) {
              clearInterval(id);
              resolve(new Response(JSON.stringify({ ticks, id, cancelled })));
            }
          }, 10);
        });
      },
    };
  `);
  const answer = w.fetch('https://t.example/');
  const result = JSON.parse(answer.body!);
  t.same(result.ticks, [0, 1, 2]);
  const timerCalls = w.calls.filter((c) => c[0] === 'setTimer' || c[0] === 'clearTimer');
  t.same(timerCalls, [
    ['setTimer', result.cancelled, 5],
    ['clearTimer', result.cancelled],
    ['setTimer', result.id, 10],
    ['setTimer', result.id, 10],
    ['setTimer', result.id, 10],
    ['setTimer', result.id, 10],
    ['clearTimer', result.id],
  ]);
  t.equal(w.timers.size, 0, 'no timer left armed');
});

t.test('delays are normalised; ids are positive and distinct; bad callbacks throw', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  const result = w.eval(`
    const ids = [setTimeout(() => {}), setTimeout(() => {}, -5), setTimeout(() => {}, 'abc'), setTimeout(() => {}, 12.9),
                 setTimeout(() => {}, 2 ** 31), setInterval(() => {}, 0)];
    let error;
    try { setTimeout('code', 1) } catch (e) { error = e.name }
    [ids, error, typeof clearTimeout(undefined), typeof clearTimeout(9999)];
  `) as [number[], string];
  t.same(result[0], [1, 2, 3, 4, 5, 6]);
  t.equal(result[1], 'TypeError');
  t.same(
    w.calls.filter((c) => c[0] === 'setTimer').map((c) => c[2]),
    [0, 0, 0, 12, 0, 1],
    'an interval of 0 is 1 ms apart: the host runs a 0 ms timer at the end of its turn',
  );
});

t.test('an unknown or cleared timer id is ignored; a throwing callback is logged', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.eval(`globalThis.ran = []; setTimeout(() => { ran.push(1); throw new Error('tick failed') }, 1); setTimeout(() => ran.push(2), 2)`);
  w.dispatch('timer', 42);
  w.fireNextTimer();
  w.fireNextTimer();
  w.dispatch('timer', 1);
  t.same(w.eval('ran'), [1, 2]);
  const errors = w.logs().filter(([level]) => level === 'error');
  t.equal(errors.length, 1);
  t.match(errors[0]![1], /^Uncaught Error: tick failed\n {4}at /);
});

t.test('queueMicrotask runs before the dispatch call returns; its errors are logged', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.same(
    w.eval(`
      globalThis.order = [];
      queueMicrotask(() => order.push('micro'));
      queueMicrotask(() => { throw new TypeError('bad job') });
      order.push('sync');
      let error;
      try { queueMicrotask(1) } catch (e) { error = e.name }
      error;
    `),
    'TypeError',
  );
  t.same(w.eval('order'), ['sync', 'micro']);
  t.match(w.logs(), [['error', /^Uncaught TypeError: bad job/]]);
  w.eval(`reportError(new RangeError('reported'))`);
  t.match(w.logs()[1], ['error', /^Uncaught RangeError: reported/]);
});

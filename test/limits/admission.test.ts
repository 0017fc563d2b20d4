import t from 'tap';
import { Admission } from '../../src/limits/admission.ts';

t.test('runs up to the limit at once, queues FIFO, then sheds', async (t) => {
  const admission = new Admission({ queueFactor: 2, maxWaitMs: 10_000 });
  const granted: number[] = [];
  const shed: number[] = [];
  const releases: (() => void)[] = [];
  for (let i = 0; i < 7; i++) {
    admission.enter('w', 2, {
      admitted(release) {
        granted.push(i);
        releases.push(release);
      },
      shed: () => shed.push(i),
    });
  }
  t.same(granted, [0, 1], 'two run');
  t.same(shed, [6], 'four wait (2 × limit), the seventh is shed');
  releases[0]!();
  releases[0]!(); // releasing twice frees one slot only
  t.same(granted, [0, 1, 2]);
  releases[1]!();
  t.same(granted, [0, 1, 2, 3]);
  for (const release of releases.slice(2)) release();
  t.same(granted, [0, 1, 2, 3, 4, 5]);
  for (const release of releases.slice(4)) release();
  t.equal(admission.running('w'), 0);
});

t.test('a waiter past the wait bound is shed', async (t) => {
  const admission = new Admission({ queueFactor: 4, maxWaitMs: 30 });
  let hold: () => void = () => {};
  admission.enter('w', 1, { admitted: (release) => (hold = release), shed: () => t.fail('first must run') });
  const outcome = await new Promise<string>((resolve) => admission.enter('w', 1, { admitted: () => resolve('granted'), shed: () => resolve('shed') }));
  t.equal(outcome, 'shed');
  hold();
  t.equal(admission.running('w'), 0);
});

t.test('a deleted worker is forgotten: what it had keeps its gate, a new worker of its name gets its own', async (t) => {
  const admission = new Admission({ queueFactor: 4, maxWaitMs: 10_000 });
  const events: string[] = [];
  let release: () => void = () => {};
  admission.enter('w', 1, { admitted: (r) => ((release = r), events.push('old runs')), shed: () => events.push('old shed') });
  admission.enter('w', 1, { admitted: () => events.push('old waiter runs'), shed: () => events.push('old waiter shed') });
  t.equal(admission.workers, 1);
  admission.forget('w');
  t.equal(admission.workers, 0, 'the gate is gone with the worker');
  admission.enter('w', 1, { admitted: () => events.push('new runs'), shed: () => events.push('new shed') });
  t.same(events, ['old runs', 'new runs'], "the new worker does not wait behind the deleted one's invocations");
  release();
  t.same(events, ['old runs', 'new runs', 'old waiter runs'], "the deleted worker's waiter still runs when its slot frees");
});

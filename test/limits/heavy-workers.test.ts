import t from 'tap';
import { HeavyWorkers } from '../../src/limits/heavy-workers.ts';

t.test('a worker stays heavy for the cool-down after its last CPU overrun', async (t) => {
  let now = 0;
  const heavy = new HeavyWorkers(1000, () => now);
  t.equal(heavy.has('w'), false);
  heavy.mark('w');
  now = 999;
  t.equal(heavy.has('w'), true);
  heavy.mark('w');
  now = 1998;
  t.equal(heavy.has('w'), true, 'a new overrun extends it');
  now = 2000;
  t.equal(heavy.has('w'), false);
  t.equal(heavy.has('other'), false);
});

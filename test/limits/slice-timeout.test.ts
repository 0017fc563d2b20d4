import t from 'tap';
import { SliceTimeout } from '../../src/limits/slice-timeout.ts';

t.test('the timeout follows the thread share of a core, stretched by at most 5 ms', async (t) => {
  const timeout = new SliceTimeout();
  t.equal(timeout.timeoutMs(50), 50, 'a full core: wall = CPU');
  for (let i = 0; i < 2000; i++) timeout.observe(50, 100); // short slices getting half a core
  t.ok(timeout.timeoutMs(50) > 54 && timeout.timeoutMs(50) <= 55, `${timeout.timeoutMs(50)} ms`);
  t.ok(timeout.timeoutMs(2) > 3.5 && timeout.timeoutMs(2) <= 4, 'small budgets stretch by the share');
  for (let i = 0; i < 2000; i++) timeout.observe(100, 100);
  t.ok(timeout.timeoutMs(50) < 50.5, 'back to a full core');
});

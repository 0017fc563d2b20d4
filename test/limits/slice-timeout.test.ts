import t from 'tap';
import { SliceTimeout } from '../../src/limits/slice-timeout.ts';

t.test("the timeout follows the thread's share of a core, down to 0.4 of it", async (t) => {
  const timeout = new SliceTimeout();
  t.equal(timeout.timeoutMs(50), 50, 'a full core: wall = CPU');
  for (let i = 0; i < 2000; i++) timeout.observe(50, 100); // short slices getting half a core
  t.ok(timeout.timeoutMs(50) > 99 && timeout.timeoutMs(50) <= 100, `half a core: ${timeout.timeoutMs(50)} ms`);
  t.ok(timeout.timeoutMs(2) > 3.9 && timeout.timeoutMs(2) <= 4, 'small budgets stretch by the share');
  for (let i = 0; i < 2000; i++) timeout.observe(10, 100); // a tenth of a core
  t.ok(timeout.timeoutMs(50) > 124 && timeout.timeoutMs(50) <= 125, `starved: at most 2.5x (${timeout.timeoutMs(50)} ms)`);
  for (let i = 0; i < 2000; i++) timeout.observe(100, 100);
  t.ok(timeout.timeoutMs(50) < 50.5, 'back to a full core');
});

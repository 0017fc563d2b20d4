import t from 'tap';
import { SlowStarts } from '../../src/limits/slow-starts.ts';

t.test('a version is slow to start once a build took the threshold or longer', async (t) => {
  const slow = new SlowStarts(100);
  t.equal(slow.note('v1', 99), false);
  t.equal(slow.has('v1'), false);
  t.equal(slow.note('v1', 100), true);
  t.equal(slow.has('v1'), true);
  t.equal(slow.note('v1', 5), true, 'a later quick build does not clear it');
  slow.forget('v1');
  t.equal(slow.has('v1'), false, 'forgotten when the version retires');
});

t.test('while its build runs, a version counts as slow; then as the build says', async (t) => {
  const slow = new SlowStarts(100);
  slow.building('quick');
  slow.building('heavy');
  slow.building('broken');
  t.ok(slow.has('quick') && slow.has('heavy') && slow.has('broken'));
  t.equal(slow.built('quick', 8), false);
  t.equal(slow.built('heavy', 800), true);
  t.equal(slow.built('broken', null), false);
  t.same([slow.has('quick'), slow.has('heavy'), slow.has('broken')], [false, true, false]);
});

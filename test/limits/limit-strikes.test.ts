import t from 'tap';
import { LimitStrikes } from '../../src/limits/limit-strikes.ts';

t.test('two limit endings within a second block a worker, for longer each time it comes back', async (t) => {
  let now = 0;
  const strikes = new LimitStrikes(() => now);
  strikes.strike('hog');
  t.equal(strikes.blockedFor('hog'), 0, 'one ending is not a pattern');
  now = 100;
  strikes.strike('hog');
  t.equal(strikes.blockedFor('hog'), 1000, 'two within a second: blocked for a second');
  t.equal(strikes.blockedFor('other'), 0, 'others are not');
  now = 1200;
  t.equal(strikes.blockedFor('hog'), 0, 'then it runs again');
  strikes.strike('hog');
  now = 1300;
  strikes.strike('hog');
  t.equal(strikes.blockedFor('hog'), 2000, 'straight back to it: twice as long');
  now = 3400;
  strikes.strike('hog');
  strikes.strike('hog');
  t.equal(strikes.blockedFor('hog'), 4000, 'and again');
  now = 3400 + 4000 + 5000;
  t.equal(strikes.blockedFor('hog'), 0);
  strikes.strike('hog');
  strikes.strike('hog');
  t.equal(strikes.blockedFor('hog'), 1000, 'after a quiet spell as long as its penalty, it starts over');
});

t.test('endings spread out never block', async (t) => {
  let now = 0;
  const strikes = new LimitStrikes(() => now);
  for (let i = 0; i < 20; i++) {
    strikes.strike('occasional');
    now += 1500;
    t.equal(strikes.blockedFor('occasional'), 0);
  }
});

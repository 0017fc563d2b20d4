import t from 'tap';
import { parseCron, parseScheduleList } from '../../src/triggers/cron.ts';
import { CronScheduler, type DueTrigger, type SchedulerClock } from '../../src/triggers/cron-scheduler.ts';

const at = (iso: string) => Date.parse(iso);

t.test("Cloudflare's cron syntax: five fields, UTC, 1 = Sunday, L, W and #", async (t) => {
  const from = at('2026-11-28T04:00:30Z'); // a Saturday
  const cases: [string, string][] = [
    ['* * * * *', '2026-11-28T04:01:00.000Z'],
    ['*/30 * * * *', '2026-11-28T04:30:00.000Z'],
    ['45 * * * *', '2026-11-28T04:45:00.000Z'],
    ['0 17 * * sun', '2026-11-29T17:00:00.000Z'],
    ['0 17 * * 1', '2026-11-29T17:00:00.000Z'],
    ['10 7 * * mon-fri', '2026-11-30T07:10:00.000Z'],
    ['10 7 * * 2-6', '2026-11-30T07:10:00.000Z'],
    ['0 15 1 * *', '2026-12-01T15:00:00.000Z'],
    ['0 18 * * 6L', '2026-12-25T18:00:00.000Z'],
    ['0 18 * * friL', '2026-12-25T18:00:00.000Z'],
    ['59 23 LW * *', '2026-11-30T23:59:00.000Z'],
    ['0 10 * * MON#2', '2026-12-14T10:00:00.000Z'],
    ['0 0 1 jan *', '2027-01-01T00:00:00.000Z'],
  ];
  for (const [cron, next] of cases) t.equal(new Date(parseCron(cron).next(from)!).toISOString(), next, cron);
  t.equal(parseCron('* * * * *').next(at('2026-11-28T04:01:00Z')), at('2026-11-28T04:02:00Z'), 'strictly after the given time');
});

t.test('what is not a cron expression is ISO_ERR_SCHEDULE_INVALID naming it', async (t) => {
  const bad: [unknown, RegExp][] = [
    ['* * * *', /\* \* \* \*/],
    ['0 * * * * *', /5 parts/],
    ['60 * * * *', /minute/],
    ['* 24 * * *', /hour/],
    ['* * * * 8', /days of the week are 1-7/],
    ['* * * * 0', /dayOfWeek/],
    ['* * * * 1-9', /not 9/],
    ['0 0 30 2 *', /never fires/],
    ['every minute', /every minute/],
    ['', /1 to 100/],
    [42, /1 to 100/],
    ['* '.repeat(60), /1 to 100/],
  ];
  for (const [cron, message] of bad) t.throws(() => parseCron(cron), { code: 'ISO_ERR_SCHEDULE_INVALID', message }, String(cron));
  t.same(parseScheduleList([{ cron: '* * * * *' }, { cron: '0 * * * *' }]).map((s) => s.cron), ['* * * * *', '0 * * * *']);
  t.same(parseScheduleList([]), []);
  t.throws(() => parseScheduleList({ cron: '* * * * *' }), { code: 'ISO_ERR_SCHEDULE_INVALID' });
  t.throws(() => parseScheduleList(['* * * * *']), { code: 'ISO_ERR_SCHEDULE_INVALID' });
  t.throws(() => parseScheduleList([{ cron: '* * * * *' }, { cron: '* * * * *' }]), { message: /twice/ });
});

/** A clock whose time moves only when the test says; its one timer fires when the time passes it. */
function fakeClock(start: number) {
  let now = start;
  let timer: { at: number; callback: () => void } | null = null;
  const clock: SchedulerClock = {
    now: () => now,
    setTimeout(callback, ms) {
      timer = { at: now + ms, callback };
      return timer;
    },
    clearTimeout(handle) {
      if (handle === timer) timer = null;
    },
  };
  return {
    clock,
    /** The process was held up: the time jumps to `to`, then the timers due by then run. */
    stall(to: number): void {
      now = to;
      while (timer !== null && timer.at <= now) {
        const due = timer;
        timer = null;
        due.callback();
      }
    },
    /** Moves the time to `to`, firing the timer (and those it sets) on the way. */
    advance(to: number): void {
      while (timer !== null && timer.at <= to) {
        const due = timer;
        timer = null;
        now = due.at;
        due.callback();
      }
      now = to;
    },
    get pending() {
      return timer;
    },
  };
}

t.test('the scheduler fires each due trigger once, with the time it was due, from one timer', async (t) => {
  const fake = fakeClock(at('2026-11-28T04:00:30Z'));
  const fired: DueTrigger[] = [];
  const scheduler = new CronScheduler((trigger) => fired.push(trigger), fake.clock);
  scheduler.set('a', ['* * * * *', '*/2 * * * *']);
  scheduler.set('b', ['1 4 * * *']);
  t.same(scheduler.nextRuns('a'), [
    { cron: '* * * * *', nextAt: at('2026-11-28T04:01:00Z') },
    { cron: '*/2 * * * *', nextAt: at('2026-11-28T04:02:00Z') },
  ]);
  fake.advance(at('2026-11-28T04:02:10Z'));
  t.same(
    fired.map((f) => [f.worker, f.cron, new Date(f.scheduledTime).toISOString()]),
    [
      ['a', '* * * * *', '2026-11-28T04:01:00.000Z'],
      ['b', '1 4 * * *', '2026-11-28T04:01:00.000Z'],
      ['a', '* * * * *', '2026-11-28T04:02:00.000Z'],
      ['a', '*/2 * * * *', '2026-11-28T04:02:00.000Z'],
    ],
  );
  t.equal(scheduler.nextRuns('b')[0]!.nextAt, at('2026-11-29T04:01:00Z'), 'b next fires tomorrow');

  fired.length = 0;
  scheduler.set('a', ['* * * * *', '*/2 * * * *']);
  t.equal(scheduler.nextRuns('a')[0]!.nextAt, at('2026-11-28T04:03:00Z'), 'the same list again changes nothing');
  scheduler.set('a', []);
  t.same(scheduler.nextRuns('a'), [], 'an empty list removes the worker');
  fake.advance(at('2026-11-28T05:00:00Z'));
  t.same(fired, [], 'nothing fires for a removed worker, and b is not due');
  scheduler.close();
  t.equal(fake.pending, null, 'close clears the timer');
});

t.test('a scheduler held up past several occurrences fires once, then goes on from now', async (t) => {
  const fake = fakeClock(at('2026-11-28T04:00:30Z'));
  const fired: DueTrigger[] = [];
  const scheduler = new CronScheduler((trigger) => fired.push(trigger), fake.clock);
  scheduler.set('a', ['* * * * *']);
  // The timer is due at 04:01; the process only gets to run it at 04:10:05.
  t.equal(fake.pending!.at, at('2026-11-28T04:01:00Z'));
  fake.stall(at('2026-11-28T04:10:05Z'));
  t.same(fired.map((f) => new Date(f.scheduledTime).toISOString()), ['2026-11-28T04:01:00.000Z'], 'one event, for the first missed time');
  t.equal(scheduler.nextRuns('a')[0]!.nextAt, at('2026-11-28T04:11:00Z'));
  t.ok(fake.pending!.at - at('2026-11-28T04:10:05Z') <= 60_000, 'timers are at most a minute long');
  scheduler.close();
});

t.test('an expression that no longer parses is skipped with a warning, the others still fire', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const fake = fakeClock(at('2026-11-28T04:00:30Z'));
  const scheduler = new CronScheduler(() => {}, fake.clock);
  scheduler.set('a', ['61 * * * *', '5 * * * *']);
  t.same(scheduler.nextRuns('a').map((r) => r.cron), ['5 * * * *']);
  await new Promise((resolve) => setImmediate(resolve));
  t.match(warnings.join('\n'), /61 \* \* \* \*.*worker a is skipped/);
  scheduler.close();
});

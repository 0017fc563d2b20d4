/**
 * The tenant clock (watchdog.ts): `recentTenantCpuUs` may build on a reading taken less than 100 µs ago
 * instead of making the system call, and so overstate the thread's CPU by as much, never understate it;
 * and no reading goes back below one given before, so a request's CPU (the difference between two
 * readings) is never negative. Checked against the thread's own CPU clock, read directly (this test
 * does no platform work, so the tenant clock is the thread's).
 */
import t from 'tap';
import { recentTenantCpuUs, tenantCpuUs } from '../../src/limits/watchdog.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';

const RECENT_READING_US = 100;
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const spinUs = (us: number) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};

t.test('right after a reading, a recent one is within 100 µs above the thread clock', async (t) => {
  for (let i = 0; i < 1000; i++) {
    tenantCpuUs();
    spinUs(i % 50);
    const before = threadCpuUs();
    const recent = recentTenantCpuUs();
    const after = threadCpuUs();
    if (recent < before || recent > after + RECENT_READING_US) {
      t.fail(`reading ${i}: ${recent} µs, the thread clock ${before}-${after} µs`);
      return;
    }
  }
  t.pass('1,000 readings within [clock, clock + 100 µs]');
});

t.test('a thread that slept past 100 µs gets the clock itself, not the wall time it slept', async (t) => {
  tenantCpuUs();
  sleepMs(5);
  const before = threadCpuUs();
  const recent = recentTenantCpuUs();
  const after = threadCpuUs();
  t.ok(recent >= before && recent <= after, `${recent} µs within the thread clock's ${before}-${after} µs (5 ms of sleep not counted)`);
});

t.test('readings never go back, whichever kind comes next', async (t) => {
  let previous = -Infinity;
  let backwards = 0;
  for (let i = 0; i < 20_000; i++) {
    // A short sleep right after a reading is wall time without CPU: the next recent reading overstates,
    // and an exact one a little later may be below it.
    if (i % 7 === 0) sleepMs(0.03);
    const reading = i % 3 === 0 ? tenantCpuUs() : recentTenantCpuUs();
    if (reading < previous) backwards++;
    previous = reading;
  }
  t.equal(backwards, 0, 'no reading below the one before');
});

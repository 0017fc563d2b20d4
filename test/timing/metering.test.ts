/**
 * Metering accuracy: the CPU charged is the CPU the tenant's code used, to within 1 ms, and sleeping or
 * waiting is not charged. The known amount of CPU is calibrated in this process: the same loop, run in an
 * isolate on this thread, measured with the same per-thread clock, so machine load cannot skew it.
 */
import t from 'tap';
import { BURN, calibrator } from '../../bench/lib/calibrated-burn.ts';
import { admin, deployMultipart, send, startServer, type LogLine } from '../helpers/server.ts';

const server = await startServer(t);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

t.test('a worker that burns a known amount of CPU is charged within 1 ms of it', async (t) => {
  const res = await deployMultipart(server, 'burner', { main_module: 'main.js', limits: { cpu_ms: 200 } }, {
    // n comes in a header: the known work is burn(n) plus the least request handling around it.
    'main.js': `${BURN} export default { fetch(req) { return new Response(String(burn(Number(req.headers.get('x-n'))))) } }`,
  });
  t.equal(res.status, 201, res.text);
  for (let i = 0; i < 3; i++) await send(server, 'burner.localhost', '/', { headers: { 'x-n': '1000000' } });
  const calibration = calibrator(3);
  // ~10 ms of CPU here: long enough to matter, short enough that run-to-run noise stays well under 1 ms.
  const iterations = Math.round((1e6 * 10_000) / calibration.measure(1e6));
  const burned: number[] = [];
  const charged: number[] = [];
  // Interleaved pairs, so both sides of a pair see the same machine load.
  for (let i = 0; i < 9; i++) {
    burned.push(calibration.measure(iterations));
    const reply = await send(server, 'burner.localhost', '/', { headers: { 'x-n': String(iterations) } });
    t.equal(reply.status, 200);
    // Records arrive in order: this request's is the (3 warm-ups + i + 1)th of the worker.
    await server.record(() => server.logs.filter((l) => l.type === 'invocation' && l.worker === 'burner').length >= 4 + i);
    charged.push(server.logs.filter((l) => l.type === 'invocation' && l.worker === 'burner')[3 + i]!.cpuUs as number);
  }
  calibration.dispose();
  t.comment(`burned ${burned.map((c) => c.toFixed(0)).join(', ')} µs; charged ${charged.map((c) => c.toFixed(0)).join(', ')} µs`);
  // The median of the pairs' differences: on a virtual machine a thread's CPU clock runs on while the
  // host holds its vCPU, so load adds to a reading, to either side's, by up to milliseconds (seen in
  // CI), now and then; a charge that is off by a constant (the request's handling counted twice, a
  // clock read at the wrong boundary) moves every pair all the same. (The least of each side was
  // compared before: one burn read 0.5 ms under the others in a CI run, and the difference 1.1 ms
  // while every pair but that one was within 0.81 ms.)
  const difference = median(charged.map((c, i) => c - burned[i]!));
  t.ok(Math.abs(difference) < 1000, `median of charged - burned: ${difference.toFixed(0)} µs (burned ~${median(burned).toFixed(0)} µs)`);
});

t.test('waiting on timers is not charged as CPU', async (t) => {
  const res = await deployMultipart(server, 'sleeper', { main_module: 'main.js', limits: { cpu_ms: 200 } }, {
    'main.js': `export default { async fetch(request) {
      const ms = request.url.endsWith('/warm') ? 1 : 100;
      await new Promise((r) => setTimeout(r, ms));
      await new Promise((r) => setTimeout(r, ms));
      return new Response(ms === 1 ? 'warm' : 'rested') } }`,
  });
  t.equal(res.status, 201, res.text);
  // The first requests to an isolate run its request path and its timers for the first time (compiling
  // them, ~3 ms on a busy machine): that is not sleeping, so they are done before the one measured.
  for (let i = 0; i < 3; i++) await send(server, 'sleeper.localhost', '/warm');
  // Three rests, one after another; the least charge counts (a preempted vCPU only adds, see above):
  // had the waiting been charged, every one of them would be over 200 ms.
  const records: LogLine[] = [];
  for (let i = 0; i < 3; i++) {
    const reply = await send(server, 'sleeper.localhost');
    t.equal(reply.text, 'rested');
    records.push(await server.record((l) => l.type === 'invocation' && l.worker === 'sleeper' && l.bytesOut === 6 && !records.includes(l)));
  }
  for (const record of records) {
    t.ok((record.wallMs as number) >= 200, `wall ${record.wallMs} ms`);
    t.equal(record.billedMs, Math.max(1, Math.ceil((record.cpuUs as number) / 1000)));
  }
  const least = Math.min(...records.map((r) => r.cpuUs as number));
  t.ok(least < 3000, `charged ${records.map((r) => r.cpuUs).join(', ')} µs of CPU for 200 ms of waiting each`);
});

t.test('every invocation has one full record; usage and /metrics add them up', async (t) => {
  await deployMultipart(server, 'counted', { main_module: 'main.js' }, { 'main.js': `export default { fetch(req) { if (req.url.endsWith('/fail')) throw new Error('x'); return new Response('counted') } }` });
  for (let i = 0; i < 4; i++) await send(server, 'counted.localhost', '/');
  await send(server, 'counted.localhost', '/fail');
  const records: LogLine[] = [];
  for (let i = 0; i < 5; i++) records.push(await server.record((l) => l.type === 'invocation' && l.worker === 'counted' && !records.includes(l)));
  for (const record of records) {
    t.match(record, {
      requestId: /^[0-9a-f-]{36}$/,
      worker: 'counted',
      version: /^[0-9a-f]{20}$/,
      outcome: /^(ok|exception)$/,
      status: Number,
      cold: Boolean,
      wallMs: Number,
      cpuUs: Number,
      billedMs: Number,
      memoryLimitMb: 128,
      peakMemoryBytes: Number,
      bytesIn: 0,
      bytesOut: Number,
      startedAt: String,
    });
  }
  t.equal(records.filter((r) => r.cold).length, 0, 'the deploy warmed the isolate: no request paid a cold start');

  const usage = (await admin(server, 'GET', '/v1/workers/counted/usage?window=600')).json();
  t.equal(usage.invocations, 5);
  t.equal(usage.errors, 1);
  t.equal(usage.outcomes.ok, 4);
  t.equal(usage.outcomes.exception, 1);
  t.equal(usage.billedMsTotal, records.reduce((sum, r) => sum + (r.billedMs as number), 0));
  t.ok(usage.cpuMs.p99 >= usage.cpuMs.p50 && usage.wallMs.p99 >= usage.wallMs.p50);
  t.equal((await admin(server, 'GET', '/v1/workers/counted/usage?window=0')).status, 400);

  const metrics = await admin(server, 'GET', '/metrics');
  t.match(metrics.headers['content-type'], /text\/plain/);
  t.match(metrics.text, /isolane_invocations_total\{worker="counted",outcome="ok"\} 4\n/);
  t.match(metrics.text, /isolane_invocations_total\{worker="counted",outcome="exception"\} 1\n/);
  t.match(metrics.text, /isolane_cpu_milliseconds\{worker="counted",quantile="0.99"\} [\d.]+\n/);
  t.equal((await admin(server, 'GET', '/metrics', { token: null })).status, 401);

  const logs = (await admin(server, 'GET', '/v1/workers/counted/logs')).json().lines;
  const report = logs.find((l: { level: string }) => l.level === 'report');
  t.match(report.message, /^REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t.*Memory Size: 128 MB\tMax Memory Used: \d+ MB\t/);
});

t.test('a cold start reports its init time', async (t) => {
  const { dataDir } = server;
  t.ok(dataDir);
  const restarted = await startServer(t);
  await deployMultipart(restarted, 'coldy', { main_module: 'main.js' }, { 'main.js': `export default { fetch() { return new Response('brr') } }` });
  await restarted.stop();
  const again = await startServer(t, { dataDir: restarted.dataDir });
  t.equal((await send(again, 'coldy.localhost')).text, 'brr');
  const record = await again.record((l) => l.type === 'invocation' && l.worker === 'coldy');
  t.equal(record.cold, true);
  t.ok(typeof record.initMs === 'number' && record.initMs > 0, `init ${record.initMs} ms`);
});

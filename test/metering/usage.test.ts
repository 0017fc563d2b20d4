import t from 'tap';
import { deserialize, serialize } from 'node:v8';
import { batchLines, billedMs, RecordBatcher, reportLine } from '../../src/metering/record.ts';
import { quantile, UsageLog } from '../../src/metering/usage.ts';
import { renderPrometheus } from '../../src/metering/prometheus.ts';
import type { InvocationRecord } from '../../src/types.ts';

function record(worker: string, cpuUs: number, outcome: InvocationRecord['outcome'] = 'ok'): InvocationRecord {
  return { requestId: 'r', worker, version: 'v', outcome, status: 200, cold: false, initMs: null, wallMs: cpuUs / 500, cpuUs, billedMs: billedMs(cpuUs), memoryLimitMb: 128, peakMemoryBytes: 3 << 20, bytesIn: 0, bytesOut: 5, startedAt: '2026-01-01T00:00:00.000Z' };
}

t.test('billing rounds CPU up to whole ms, at least 1', async (t) => {
  t.equal(billedMs(0), 1);
  t.equal(billedMs(1), 1);
  t.equal(billedMs(1000), 1);
  t.equal(billedMs(1001), 2);
  t.equal(billedMs(27_550), 28);
  // From the whole microseconds the record shows: a record never says 1000 µs billed 2 ms.
  t.equal(billedMs(1000.3), 1);
  t.equal(billedMs(1000.5), 2);
});

t.test('quantiles are nearest-rank', async (t) => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(quantile(values, 0.5), 50);
  t.equal(quantile(values, 0.99), 99);
  t.equal(quantile([], 0.5), 0);
});

t.test('usage over a window, and the Prometheus rendering', async (t) => {
  let now = 1_000_000;
  const usage = new UsageLog(() => now);
  usage.record(record('a', 5000));
  now += 120_000;
  for (let i = 1; i <= 9; i++) usage.record(record('a', i * 1000, i === 9 ? 'exceededCpu' : 'ok'));
  const recent = usage.summary('a', 60);
  t.equal(recent.invocations, 9, 'the older one is outside a 60 s window');
  t.equal(recent.errors, 1);
  t.equal(recent.outcomes.exceededCpu, 1);
  t.equal(recent.cpuMsTotal, 45);
  t.equal(recent.billedMsTotal, 45);
  t.equal(recent.cpuMs.p50, 5);
  t.equal(usage.summary('a', 3600).invocations, 10);
  const text = renderPrometheus(usage);
  t.match(text, /isolane_invocations_total\{worker="a",outcome="ok"\} 9\n/);
  t.match(text, /isolane_cpu_seconds_total\{worker="a"\} 0\.05\n/);
  t.match(text, /# TYPE isolane_cpu_milliseconds summary/);
});

t.test('records cross between processes as a batch and come back as their log lines, in order, keys in order', async (t) => {
  const original: InvocationRecord = { ...record('a', 1234.5, 'exceededCpu'), cold: true, initMs: 2.75, status: 503, bytesIn: 7, bytesOut: 9 };
  const scheduled: InvocationRecord = { ...record('b', 800), status: 0, cron: '*/5 * * * *' };
  const records = [original, scheduled, { ...record('a', 90), requestId: 'r2', version: 'v2', initMs: 0 }, { ...scheduled, requestId: 'r3', cron: '0 6 * * *' }];
  const batcher = new RecordBatcher();
  for (const r of records) batcher.add(r);
  t.equal(batcher.size, 4);
  // The IPC channel's 'advanced' serialisation is V8's serialiser.
  const lines = batchLines(deserialize(serialize(batcher.take())));
  t.equal(batcher.size, 0, 'taking the batch starts a new one');
  t.strictSame(lines, records.map((r) => ({ type: 'invocation', ...r })), 'every field comes back with its type, a cron only where there was one');
  for (const [i, line] of lines.entries()) {
    t.same(Object.keys(line), ['type', ...Object.keys(records[i]!)], 'the log line keeps its key order, type first');
  }
  t.same(batchLines(new RecordBatcher().take()), [], 'an empty batch');
});

t.test('the REPORT line follows Lambda', async (t) => {
  const line = reportLine({ ...record('a', 27_550), wallMs: 30.5, initMs: 3.2 });
  t.equal(line, 'REPORT RequestId: r\tDuration: 30.50 ms\tBilled Duration: 28 ms\tCPU Time: 27.550 ms\tMemory Size: 128 MB\tMax Memory Used: 3 MB\tInit Duration: 3.20 ms\tOutcome: ok');
  t.match(reportLine({ ...record('a', 900), cron: '0 6 * * *' }), /\tCron: 0 6 \* \* \*\tOutcome: ok$/, "a scheduled event's names its cron");
});

t.test('the rings of all workers together stay within their slot budget; totals stay exact', async (t) => {
  let now = 0;
  const usage = new UsageLog(() => now, 1024);
  for (let i = 0; i < 3000; i++) usage.record(record('busy', 1000));
  t.equal(usage.slots, 1024, "the busy worker's ring grew to the whole budget and no further");
  for (let i = 0; i < 200; i++) {
    now += 1000;
    usage.record(record('late', 1000));
  }
  t.equal(usage.slots, 1024 + 64, 'a worker that comes later keeps its first ring and does not grow it');
  const late = usage.summary('late', 3600);
  t.equal(late.invocations, 64, 'its windows reach back over that ring only');
  t.equal(late.truncated, true, 'and say so');
  t.equal(usage.totals('late')!.outcomes.ok, 200, 'its totals count everything');
  usage.forget('busy');
  t.equal(usage.slots, 64, 'a forgotten worker gives its slots back');
  for (let i = 0; i < 200; i++) {
    now += 1000;
    usage.record(record('late', 1000, i === 199 ? 'exception' : 'ok'));
  }
  t.ok(usage.slots > 64, 'which the others can grow into, wrapped or not');
  const grown = usage.summary('late', 3600);
  t.equal(grown.invocations, 64 + 200, 'keeping what the small ring held, in order');
  t.equal(grown.outcomes.exception, 1);
  t.equal(grown.truncated, true, 'still short of the first 136');
  // One invocation a second: a window of 229.5 s holds exactly the last 230 (30 from before it grew), if the
  // slots kept their order when the wrapped ring grew.
  t.equal(usage.summary('late', 229.5).invocations, 230, 'in arrival order');
});

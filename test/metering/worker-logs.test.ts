import t from 'tap';
import { WorkerLogs } from '../../src/metering/worker-logs.ts';

t.test('keeps the last 500 lines per worker, oldest first, REPORT lines formatted on read', async (t) => {
  const logs = new WorkerLogs();
  for (let i = 0; i < 700; i++) logs.append('w', { time: 't', requestId: null, level: 'log', message: `line ${i}` });
  const lines = logs.read('w');
  t.equal(lines.length, 500);
  t.equal(lines[0]!.message, 'line 200');
  t.equal(lines.at(-1)!.message, 'line 699');
  t.same(logs.read('w', 2).map((l) => l.message), ['line 698', 'line 699']);
  logs.append('w', { requestId: 'r1', worker: 'w', version: 'v', outcome: 'ok', status: 200, cold: false, initMs: null, wallMs: 1.5, cpuUs: 800, billedMs: 1, memoryLimitMb: 128, peakMemoryBytes: 1 << 20, bytesIn: 0, bytesOut: 2, startedAt: 'now' });
  const last = logs.read('w', 1)[0]!;
  t.equal(last.level, 'report');
  t.match(last.message, /^REPORT RequestId: r1\tDuration: 1\.50 ms\tBilled Duration: 1 ms/);
  logs.append('w', { time: '2026-11-29T10:00:00.004Z', requestId: 'r2', level: 'log', message: 'during r2' });
  logs.append('w', { requestId: 'r2', worker: 'w', version: 'v', outcome: 'ok', status: 200, cold: false, initMs: null, wallMs: 12.5, cpuUs: 800, billedMs: 1, memoryLimitMb: 128, peakMemoryBytes: 1 << 20, bytesIn: 0, bytesOut: 2, startedAt: '2026-11-29T10:00:00.000Z' });
  const [during, report] = logs.read('w', 2);
  t.equal(report!.time, '2026-11-29T10:00:00.012Z', "a REPORT line's time is its invocation's end");
  t.ok(report!.time > during!.time, 'so it sorts after the lines the invocation logged');
  t.same(logs.read('other'), []);
  logs.forget('w');
  t.same(logs.read('w'), []);
});

t.test('all workers together keep at most 200,000 entries: the least recently written go first', async (t) => {
  const logs = new WorkerLogs();
  for (let w = 0; w < 1000; w++) for (let i = 0; i < 500; i++) logs.append(`w${w}`, { time: 't', requestId: null, level: 'log', message: 'm' });
  t.equal(logs.read('w999').length, 500, 'the newest worker keeps its whole ring');
  t.equal(logs.read('w600').length, 500, '400 full rings fit');
  t.equal(logs.read('w599').length, 0, 'the one before them was dropped');
  t.equal(logs.read('w0').length, 0);
});

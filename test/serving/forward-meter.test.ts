/**
 * ForwardMeter bounds the console text waiting on the channel to the primary: past it, console lines are
 * dropped and counted per worker (said once the channel has room), and invocation records still go.
 */
import t from 'tap';
import { batchLines } from '../../src/metering/record.ts';
import { ForwardMeter } from '../../src/serving/forward-meter.ts';
import type { Metering } from '../../src/serving/protocol.ts';
import type { InvocationRecord } from '../../src/types.ts';

const record = (requestId: string): InvocationRecord => ({
  requestId, worker: 'chatty', version: 'v1', outcome: 'ok', status: 200, cold: false, initMs: null, wallMs: 1, cpuUs: 100,
  billedMs: 1, memoryLimitMb: 128, peakMemoryBytes: 0, bytesIn: 0, bytesOut: 2, startedAt: new Date(0).toISOString(),
});

t.test('a channel that does not drain: lines past the bound are dropped, records are not, and the drop is said', async (t) => {
  const sent: { message: Metering; written?: () => void }[] = [];
  const meter = new ForwardMeter((message, written) => sent.push({ message, written }), 1000);
  const line = 'x'.repeat(300);
  for (let i = 0; i < 10; i++) {
    meter.console('chatty', `r${i}`, 'log', line);
    meter.invocation(record(`r${i}`));
    meter.flush();
  }
  const lines = sent.flatMap(({ message }) => message.lines);
  const records = sent.flatMap(({ message }) => batchLines(message.records));
  t.ok(lines.length >= 3 && lines.length <= 4, `${lines.length} of 10 lines went while the channel held them`);
  t.equal(records.length, 10, 'every record went');
  // The channel drains.
  for (const { written } of sent.splice(0)) written?.();
  meter.flush();
  const notice = sent.flatMap(({ message }) => message.lines).find((l) => l.level === 'warn');
  t.match(notice, { worker: 'chatty', requestId: null, message: `${10 - lines.length} console lines dropped: the server's log could not keep up` });
  meter.console('chatty', 'r10', 'log', 'after');
  meter.flush();
  t.ok(sent.flatMap(({ message }) => message.lines).some((l) => l.message === 'after'), 'lines go again');
});

t.test("past its burst, a worker's lines are dropped at the rate it exceeds; other workers' are not", async (t) => {
  let now = 0;
  const sent: Metering[] = [];
  const meter = new ForwardMeter((message, written) => {
    sent.push(message);
    written?.();
  }, 1e12, () => now);
  const line = 'y'.repeat(64 * 1024);
  // 6 MiB at once: the 4 MiB burst goes.
  for (let i = 0; i < 96; i++) meter.console('flood', null, 'log', line);
  meter.console('calm', null, 'log', 'still here');
  meter.flush();
  const kept = () => sent.flatMap((m) => m.lines).filter((l) => l.worker === 'flood' && l.level === 'log').length;
  t.equal(kept(), 64, '4 MiB of it');
  t.ok(sent.flatMap((m) => m.lines).some((l) => l.worker === 'calm'), "another worker's line goes");
  const notice = sent.flatMap((m) => m.lines).find((l) => l.worker === 'flood' && l.level === 'warn');
  t.match(notice?.message, /^32 console lines dropped: the worker logged more than 1 MiB a second$/);
  // Half a second later: half a MiB more.
  now += 500;
  for (let i = 0; i < 16; i++) meter.console('flood', null, 'log', line);
  meter.flush();
  t.equal(kept(), 64 + 8, 'refilled at 1 MiB a second');
});

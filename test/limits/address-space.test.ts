/** The per-process ceiling on warm isolates (src/limits/address-space.ts) that no setting lifts, and what it leaves of --max-isolates. */
import t from 'tap';
import { isolatesPerProcess, MAX_ISOLATES_PER_PROCESS, warmIsolatesAtMost } from '../../src/limits/address-space.ts';
import { startServer } from '../helpers/server.ts';

t.test('a process keeps what it is given, up to the ceiling', async (t) => {
  t.equal(isolatesPerProcess(16), 16);
  t.equal(isolatesPerProcess(5000), MAX_ISOLATES_PER_PROCESS, '--max-isolates 10000 on two processes');
  t.ok(MAX_ISOLATES_PER_PROCESS < 4000, 'below the ~4,000 isolates at which V8 aborted a process here');
});

t.test('what the serving processes keep of --max-isolates in all', async (t) => {
  t.equal(warmIsolatesAtMost(16, 2), 16);
  t.equal(warmIsolatesAtMost(10_000, 2), 2 * MAX_ISOLATES_PER_PROCESS, 'two processes: short of 10,000');
  t.equal(warmIsolatesAtMost(10_000, 4), 10_000, 'four processes: all of it');
  t.equal(warmIsolatesAtMost(7, 2), 8, 'each process gets a whole share');
});

t.test('the ready line says how many warm isolates the processes keep at most', async (t) => {
  const one = await startServer(t, { args: ['--executors', '1', '--max-isolates', '5000'] });
  const ready = await one.record((line) => line.type === 'ready');
  t.equal(ready.servingProcesses, 1);
  t.equal(ready.warmIsolatesAtMost, MAX_ISOLATES_PER_PROCESS, 'one process keeps its ceiling of the 5,000 asked for');
});

/** The per-process ceiling on warm isolates (src/limits/address-space.ts) that no setting lifts. */
import t from 'tap';
import { isolatesPerProcess, MAX_ISOLATES_PER_PROCESS } from '../../src/limits/address-space.ts';

t.test('a process keeps what it is given, up to the ceiling', async (t) => {
  t.equal(isolatesPerProcess(16), 16);
  t.equal(isolatesPerProcess(5000), MAX_ISOLATES_PER_PROCESS, '--max-isolates 10000 on two processes');
  t.ok(MAX_ISOLATES_PER_PROCESS < 4000, 'below the ~4,000 isolates at which V8 aborted a process here');
});

/**
 * A live tail whose reader does not keep up: entries beyond the 1 MiB it may hold unsent are counted,
 * not kept, and the reader is told how many once there is room again. In-process: what is tested is the
 * stream's own bound, which a socket's kernel buffers would hide over HTTP.
 */
import t from 'tap';
import { tailResponse } from '../../src/admin/tail.ts';
import { WorkerLogs } from '../../src/metering/worker-logs.ts';

t.test('a slow reader gets `dropped` with a count, and the stream stays bounded', async (t) => {
  const logs = new WorkerLogs();
  const response = tailResponse(logs, 'w');
  const reader = response.body!.getReader();
  const line = (i: number) => ({ time: 'now', requestId: null, level: 'log', message: `${i} ${'x'.repeat(1000)}` });
  for (let i = 0; i < 3000; i++) logs.append('w', line(i)); // ~3 MB of events, none read yet
  const decoder = new TextDecoder();
  let text = '';
  // Read what was queued (about 1 MiB), then append one more entry: the drop count goes first.
  while (!text.includes('"message":"1')) text += decoder.decode((await reader.read()).value);
  let queued = text;
  // A read still pending when the queue is empty takes the next chunk: it is kept for what follows.
  let pending = reader.read();
  for (;;) {
    const result = await Promise.race([pending, new Promise<null>((resolve) => setTimeout(() => resolve(null), 50))]);
    if (result === null) break;
    queued += decoder.decode(result.value);
    pending = reader.read();
  }
  const kept = queued.match(/event: console/g)!.length;
  t.ok(kept > 500 && kept < 1100, `${kept} entries kept of 3000 (1 MiB)`);
  logs.append('w', line(9999));
  let after = decoder.decode((await pending).value);
  while (!after.includes('9999')) after += decoder.decode((await reader.read()).value);
  t.match(after, new RegExp(`event: dropped\\ndata: \\{"entries":${3000 - kept}\\}\\n\\nevent: console\\ndata: \\{[^\\n]*"message":"9999 `));
  await reader.cancel();
  t.equal(logs.followerCount('w'), 0, 'cancelling the stream stops following');
});

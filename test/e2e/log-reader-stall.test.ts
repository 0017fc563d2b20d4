/**
 * A log reader that stops reading (stdout a pipe nobody drains) must not stop the server: the primary
 * queues its lines (and drops them past a bound, log/logger.ts) rather than block in write(2). It did
 * block while the serving processes shared its stdout, whose open file they had put back into blocking
 * mode (serving-pool.ts).
 */
import t from 'tap';
import { Agent, request } from 'undici';
import { deployScript, startServer } from '../helpers/server.ts';

/** A GET on a connection of its own, answered within `ms` or reported as a timeout. */
async function getWithin(url: string, host: string | undefined, ms: number): Promise<number | 'timeout'> {
  const agent = new Agent();
  try {
    const answer = request(url, { headers: host ? { host } : {}, dispatcher: agent }).then(async (r) => (await r.body.text(), r.statusCode));
    return await Promise.race([answer, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);
  } finally {
    void agent.destroy();
  }
}

t.test('with the log reader stalled, the admin API and the data plane still answer', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  t.equal((await deployScript(server, 'chatty', `const line = 'x'.repeat(16000); export default { fetch() { for (let i = 0; i < 16; i++) console.log(line); return new Response('ok') } }`)).status, 201);
  t.equal((await deployScript(server, 'quiet', `export default { fetch() { return new Response('quiet') } }`)).status, 201);
  server.child.stdout!.pause();
  t.teardown(() => void server.child.stdout!.resume());
  // ~1.5 MB of log lines, far past what a pipe holds.
  for (let i = 0; i < 6; i++) t.equal(await getWithin(server.dataUrl + '/', 'chatty.localhost', 4000), 200, `chatty request ${i}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(await getWithin(server.adminUrl + '/healthz', undefined, 3000), 200, 'the admin API answers');
  t.equal(await getWithin(server.dataUrl + '/', 'quiet.localhost', 3000), 200, 'a new connection to the data plane is served');
  server.child.stdout!.resume();
});

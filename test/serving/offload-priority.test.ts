/**
 * The offload thread, where heavy workers run, has a lower scheduling priority than the serving thread
 * (src/isolates/executor-thread.ts), and only that thread: the serving thread and the threads the
 * process shares (libuv's pool) keep the serving priority. Read from /proc, the kernel's own account of
 * each thread, after a worker allowed more than the serving thread's 200 ms of CPU was deployed and
 * served there. (The offload thread also makes the shared threads itself before it lowers its priority,
 * for the case where it is the first to need them; since each executor serves a warm-up invocation as it
 * starts, src/isolates/host-path-warmup.ts, the serving thread makes them first, so this test no longer
 * sees that case.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { admin, deployMultipart, send, startServer } from '../helpers/server.ts';

/** Id, name and nice value of every thread of process `pid`. */
function threadsOf(pid: number): { tid: number; name: string; nice: number }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The fields after the command name, which is in parentheses and may hold spaces: nice is the 19th field.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ tid: Number(tid), name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), nice: Number(fields[16]) }];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

t.test('heavy workers run at a lower priority than the serving thread', { skip: process.platform !== 'linux' }, async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  const deployed = await deployMultipart(server, 'heavy', { main_module: 'main.js', limits: { cpu_ms: 1000 } }, { 'main.js': `export default { fetch() { return new Response('heavy') } }` });
  t.equal(deployed.status, 201, 'deployed');
  t.equal((await send(server, 'heavy.localhost')).text, 'heavy', 'served by the offload thread');
  const system = (await admin(server, 'GET', '/v1/system')).json<{ servingProcesses: { pid: number }[] }>();
  const pid = system.servingProcesses[0]!.pid;
  const threads = threadsOf(pid);
  const lowered = threads.filter((thread) => thread.nice !== 0);
  t.ok(lowered.length >= 1 && lowered.every((thread) => thread.name === 'isolane-offload' && thread.nice === 10), `the offload thread at nice 10, and only threads it made (${JSON.stringify(lowered)})`);
  // isolated-vm's pool grows from whichever thread needs it first; a pool thread the offload thread made
  // would be at 10 too (docs/ARCHITECTURE.md). The serving thread and libuv's pool stay at 0.
  t.equal(threads.find((thread) => thread.tid === pid)?.nice, 0, 'the serving thread at 0');
  // Made on first use, by whichever thread needed them first: they are every thread's.
  t.ok(threads.filter((thread) => thread.name === 'libuv-worker').length > 0 && threads.every((thread) => thread.name !== 'libuv-worker' || thread.nice === 0), "libuv's pool, at 0");
});

/**
 * CPU and records that used to go unaccounted: a cold start whose top-level code fails (its CPU is the
 * request's, and a worker doing it again and again is refused for a while), and the work after a
 * response when the server stops (it finishes within the grace, and its record is written).
 */
import t from 'tap';
import { deployScript, send, startServer } from '../helpers/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a cold start that fails is charged its CPU, and failing again and again blocks the worker', async (t) => {
  // Idle isolates go after 1 s, so the deploy's warm isolate is gone when the top-level code turns bad.
  const server = await startServer(t, { args: ['--executors', '1', '--idle-ms', '1000'] });
  const armedAt = Date.now() + 1500;
  const source = `
    if (Date.now() > ${armedAt}) {
      const end = performance.now() + 20;
      while (performance.now() < end);
      throw new Error('cannot start any more');
    }
    export default { fetch() { return new Response('ok') } };`;
  t.equal((await deployScript(server, 'failing-start', source)).status, 201, 'deploys while its top level works');
  await sleep(Math.max(0, armedAt - Date.now()) + 2500);

  const first = await send(server, 'failing-start.localhost');
  const second = await send(server, 'failing-start.localhost');
  t.same([first.status, second.status], [500, 500], 'each request runs the failing start');
  const third = await send(server, 'failing-start.localhost');
  t.equal(third.status, 503, 'then the worker is refused for a while');
  t.ok(Number(third.headers['retry-after']) >= 1, 'with a Retry-After');

  await server.record((line) => line.type === 'invocation' && line.worker === 'failing-start' && line.outcome === 'exception');
  await sleep(300);
  const failed = server.logs.filter((line) => line.type === 'invocation' && line.worker === 'failing-start' && line.outcome === 'exception');
  t.equal(failed.length, 2, 'two records of failed starts');
  for (const record of failed) {
    t.equal(record.cold, true);
    // 20 ms of wall time spinning; the thread may lose the core for part of it on a busy machine.
    t.ok((record.cpuUs as number) >= 5_000, `charged the top-level code's CPU (${record.cpuUs} µs)`);
  }
});

t.test('work after the response finishes when the server stops, and its record is written', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  const source = `export default { fetch(request, env, ctx) {
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 400)).then(() => console.log('after the response')));
    return new Response('answered');
  } };`;
  t.equal((await deployScript(server, 'lingers', source)).status, 201);
  // The connection closes with the response: nothing else keeps the draining process waiting.
  const reply = await send(server, 'lingers.localhost', '/', { headers: { connection: 'close' } });
  t.equal(reply.text, 'answered');
  await server.stop();
  const records = server.logs.filter((line) => line.type === 'invocation' && line.worker === 'lingers');
  t.equal(records.length, 1, 'the invocation has its record');
  t.equal(records[0]?.outcome, 'ok', 'its waitUntil work ran to its end');
  t.ok(server.logs.some((line) => line.type === 'console' && line.message === 'after the response'), 'and logged');
});

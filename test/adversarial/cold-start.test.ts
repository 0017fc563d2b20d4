/**
 * Top-level code that is quick when the version is deployed and slow at a later cold start (it depends
 * on time, or on chance; and a restart or a recycle forgets which versions were slow) must not hold the
 * serving thread's other tenants for long: past the quick-start budget, the invocation moves to the
 * offload thread before it runs (src/serving/invocation-routes.ts). One serving process, so that every
 * request meets the same executor.
 */
import t from 'tap';
import { Arena, assertNoGoodFailures, finishArena } from '../helpers/arena.ts';

const arena = await Arena.start(t, { args: ['--executors', '1'] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a cold start whose top-level code turned slow moves to the offload thread', async (t) => {
  const slowAfter = Date.now() + 1500;
  const source = `
const slow = Date.now() >= ${slowAfter};
if (slow) { const until = Date.now() + 800; while (Date.now() < until); }
export default {
  fetch(request) {
    // Over the memory limit: isolated-vm refuses the allocation and the executor drops the isolate.
    if (new URL(request.url).pathname === '/drop') new ArrayBuffer(1024 * 1024 * 1024);
    return new Response(slow ? 'slow start' : 'quick start');
  },
};`;
  const deployed = await arena.deploy('h-turns-slow', source);
  t.equal(deployed.status, 201, `deployed: ${deployed.status} ${deployed.text.slice(0, 200)}`);
  t.equal((await arena.hit('h-turns-slow')).reply?.text, 'quick start', 'built quickly at deploy, on the serving thread');
  await sleep(Math.max(0, slowAfter - Date.now()) + 50);

  arena.begin('cold start turned slow');
  const dropped = await arena.hit('h-turns-slow', '/drop');
  t.equal(dropped.reply?.json().error.code, 'ISO_ERR_WORKER_EXCEEDED_MEMORY', 'the memory bomb ends its invocation and its isolate');
  const cold = await arena.hit('h-turns-slow');
  t.equal(cold.reply?.text, 'slow start', 'the next request is a cold start, and is answered');
  const record = await arena.server.record((l) => l.type === 'invocation' && l.worker === 'h-turns-slow' && l.cold === true && l.outcome === 'ok');
  t.ok(Number(record.initMs) >= 700, `its build ran the slow top-level code (initMs ${record.initMs})`);
  t.equal((await arena.hit('h-turns-slow')).reply?.text, 'slow start', 'and it stays warm where it moved');
  await arena.settle();
  const slowest = arena.slowestDuring('cold start turned slow');
  t.ok(slowest < 400, `slowest good request meanwhile: ${slowest.toFixed(0)} ms (the top-level code ran 800 ms)`);
  await assertNoGoodFailures(t, arena, 'cold start turned slow');
});

t.test('good tenants under load saw zero failures', (t) => finishArena(t, arena));

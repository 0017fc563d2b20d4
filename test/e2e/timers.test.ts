/**
 * Timers over real HTTP: a 0 ms timer runs at the end of the host's turn (an immediate, not Node's 1 ms
 * timeout), after I/O already due and before any longer timer; clearing one before it runs keeps it from
 * running; a 0 ms interval keeps its 1 ms spacing.
 */
import t from 'tap';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const WORKER = `export default { async fetch(request) {
  const order = [];
  const later = new Promise((resolve) => setTimeout(() => { order.push('3 ms'); resolve(); }, 3));
  await new Promise((resolve) => setTimeout(() => { order.push('0 ms'); resolve(); }, 0));
  const cleared = setTimeout(() => order.push('cleared one ran'), 0);
  clearTimeout(cleared);
  await scheduler.wait(0);
  await later;
  let ticks = 0;
  const started = Date.now();
  await new Promise((resolve) => {
    const id = setInterval(() => { if (++ticks === 5) { clearInterval(id); resolve(); } }, 0);
  });
  return Response.json({ order, ticks, intervalMs: Date.now() - started });
} };`;

t.test('0 ms timers run first and can be cleared; a 0 ms interval keeps 1 ms apart', async (t) => {
  const deployed = await deployMultipart(server, 'timers', { main_module: 'main.js' }, { 'main.js': WORKER });
  t.equal(deployed.status, 201, deployed.text);
  const res = await send(server, 'timers.localhost', '/');
  t.equal(res.status, 200, res.text);
  const body = res.json();
  t.same(body.order, ['0 ms', '3 ms'], 'the 0 ms timer ran before the 3 ms one set before it; the cleared one never ran');
  t.equal(body.ticks, 5);
  t.ok(body.intervalMs >= 4, `five ticks of a 0 ms interval took ${body.intervalMs} ms: 1 ms apart, not back to back`);
});

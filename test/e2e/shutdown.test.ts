/** SIGTERM: new connections are refused, in-flight requests finish, logs are flushed, exit 0. */
import t from 'tap';
import { deployScript, send, startServer } from '../helpers/server.ts';

t.test('graceful shutdown finishes in-flight requests', async (t) => {
  const server = await startServer(t);
  await deployScript(server, 'slowpoke', `export default { async fetch() { console.log('started'); await new Promise((r) => setTimeout(r, 700)); return new Response('finished') } }`);
  const inFlight = send(server, 'slowpoke.localhost');
  await server.record((l) => l.type === 'console' && l.worker === 'slowpoke' && l.message === 'started');
  const stopAsked = performance.now();
  const stopped = server.stop();
  const reply = await inFlight;
  t.equal(reply.status, 200);
  t.equal(reply.text, 'finished', 'the request in flight at SIGTERM was answered');
  await stopped;
  t.equal(server.child.exitCode, 0);
  t.ok(performance.now() - stopAsked < 5000, 'idle keep-alive connections do not hold the shutdown');
  t.ok(server.logs.some((l) => l.type === 'invocation' && l.worker === 'slowpoke' && l.outcome === 'ok'), 'its record was flushed');
  t.ok(server.logs.some((l) => l.type === 'stopped'));
  await t.rejects(send(server, 'slowpoke.localhost'), 'no longer accepting');
});

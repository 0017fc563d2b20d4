/**
 * One worker's service-binding calls to a slow service hold connections of its own only: another
 * tenant's calls on the same serving thread are not queued behind them (executor.ts, one pool per
 * calling worker; one pool for all let a worker take every connection).
 */
import t from 'tap';
import { request } from 'undici';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

t.test('a worker saturating its service connections does not slow another worker\'s calls', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  const deploy = async (name: string, source: string, bindings: unknown[] = []) =>
    t.equal((await deployMultipart(server, name, { main_module: 'main.js', bindings }, { 'main.js': source })).status, 201, `deployed ${name}`);
  await deploy('slow-service', `export default { async fetch() { await scheduler.wait(3000); return new Response('late') } }`);
  await deploy('fan-out', `export default { async fetch(request, env) {
    await Promise.all([1, 2, 3, 4, 5, 6].map(() => env.SLOW.fetch('http://slow/').then((r) => r.text())));
    return new Response('done');
  } }`, [{ type: 'service', name: 'SLOW', service: 'slow-service' }]);
  await deploy('fast-service', `export default { fetch() { return new Response('fast') } }`);
  await deploy('caller', `export default { async fetch(request, env) {
    const started = Date.now();
    const answer = await (await env.FAST.fetch('http://fast/')).text();
    return Response.json({ answer, ms: Date.now() - started });
  } }`, [{ type: 'service', name: 'FAST', service: 'fast-service' }]);

  t.equal(JSON.parse((await send(server, 'caller.localhost')).text).answer, 'fast');
  // 11 requests of 6 calls each: 66 slow calls, more than the one shared pool's 64 connections were.
  const flood = Array.from({ length: 11 }, () => request(`${server.dataUrl}/`, { headers: { host: 'fan-out.localhost' } }).then((r) => r.body.text()));
  await new Promise((resolve) => setTimeout(resolve, 800));
  const during = JSON.parse((await send(server, 'caller.localhost')).text) as { answer: string; ms: number };
  t.equal(during.answer, 'fast');
  t.ok(during.ms < 1000, `another worker's call took ${during.ms} ms while the slow calls held their connections (queued behind them: ~2 s or more)`);
  t.same(new Set(await Promise.all(flood)), new Set(['done']), 'and the slow calls all finish');
});

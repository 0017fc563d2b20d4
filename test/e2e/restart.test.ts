/** A restart (even after SIGKILL) loads every worker and route back from the data directory. */
import t from 'tap';
import { admin, deployMultipart, deployScript, send, startServer } from '../helpers/server.ts';

t.test('workers, versions and routes survive a crash', async (t) => {
  const first = await startServer(t);
  t.equal((await deployScript(first, 'alpha', `export default { fetch() { return new Response('alpha v1') } }`)).status, 201);
  t.equal((await deployScript(first, 'alpha', `export default { fetch() { return new Response('alpha v2') } }`)).status, 200);
  t.equal((await deployMultipart(first, 'beta', { main_module: 'b.js', routes: ['beta.example.com/*'], bindings: [{ type: 'secret_text', name: 'S', text: 'hidden' }] }, { 'b.js': `export default { fetch(r, env) { return new Response('beta ' + env.S.length) } }` })).status, 201);
  await first.kill();

  const second = await startServer(t, { dataDir: first.dataDir });
  t.equal((await send(second, 'alpha.localhost')).text, 'alpha v2');
  t.equal((await send(second, 'beta.example.com')).text, 'beta 6');
  const versions = (await admin(second, 'GET', '/v1/workers/alpha/versions')).json().versions;
  t.equal(versions.length, 2);
  t.equal((await admin(second, 'POST', '/v1/workers/alpha/rollback')).status, 200);
  t.equal((await send(second, 'alpha.localhost')).text, 'alpha v1');
  await second.stop();
  t.equal(second.child.exitCode, 0, 'SIGTERM stops the server cleanly');

  const third = await startServer(t, { dataDir: first.dataDir });
  t.equal((await send(third, 'alpha.localhost')).text, 'alpha v1', 'the rollback was durable');
});

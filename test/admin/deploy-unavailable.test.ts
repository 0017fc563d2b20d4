/**
 * A deploy that fails for the server's reasons, not the upload's (the serving process building it died),
 * is answered 503 with Retry-After, stores nothing, and a retry succeeds.
 */
import t from 'tap';
import { admin, deployScript, send, startServer } from '../helpers/server.ts';

t.test('the process building a deploy dies: 503 to retry, the old version still serves', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  t.equal((await deployScript(server, 'app', `export default { fetch() { return new Response('v0') } }`)).status, 201);
  const [serving] = (await admin(server, 'GET', '/v1/system')).json<{ servingProcesses: { pid: number }[] }>().servingProcesses;
  const slow = `const until = Date.now() + 800; while (Date.now() < until) {} export default { fetch() { return new Response('v1') } }`;
  const deploying = deployScript(server, 'app', slow);
  await new Promise((resolve) => setTimeout(resolve, 250));
  process.kill(serving!.pid, 'SIGKILL');
  const reply = await deploying;
  t.equal(reply.status, 503, 'the server could not build it: 503, not a 400 blaming the upload');
  t.equal(reply.json().error.code, 'ISO_ERR_DEPLOY_UNAVAILABLE');
  t.equal(reply.headers['retry-after'], '1');
  // The primary starts a new serving process; the worker is as it was.
  for (let i = 0; i < 100 && (await send(server, 'app.localhost').catch(() => null))?.text !== 'v0'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal((await send(server, 'app.localhost')).text, 'v0', 'the old version still serves');
  const retry = await deployScript(server, 'app', slow);
  t.equal(retry.status, 200, 'and a retry deploys');
  t.equal((await send(server, 'app.localhost')).text, 'v1');
});

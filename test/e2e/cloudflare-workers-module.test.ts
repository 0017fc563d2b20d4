/**
 * `cloudflare:workers` over real HTTP: a default export extending WorkerEntrypoint serves requests and
 * cron events with `this.env` and `this.ctx`, one instance per invocation; the imported `env` is the
 * handlers' env, filled before top-level code runs (a KV binding's methods refuse there); DurableObject and RpcTarget import and extend; other `cloudflare:`
 * modules, and a class that is not a WorkerEntrypoint, are clear deploy errors.
 */
import t from 'tap';
import { admin, deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const WORKER = `
import { WorkerEntrypoint, DurableObject, RpcTarget, env } from 'cloudflare:workers';
const atTopLevel = Object.keys(env);
const greetingAtTopLevel = env.GREETING;
const kvAtTopLevel = (async () => { try { await env.STORE.get('k'); return 'ran'; } catch (err) { return err.message; } })();
export class Counter extends DurableObject {}
class Session extends RpcTarget {}
export default class Api extends WorkerEntrypoint {
  seen = 0;
  async fetch(request) {
    this.seen++;
    let waited = false;
    this.ctx.waitUntil(Promise.resolve().then(() => { waited = true; }));
    return Response.json({
      greeting: this.env.GREETING,
      sameEnv: this.env === env,
      imported: env.GREETING,
      atTopLevel,
      greetingAtTopLevel,
      proto: Object.getOwnPropertyDescriptor(env, '__proto__')?.value,
      prototypeKept: Object.getPrototypeOf(env) === Object.prototype,
      kvAtTopLevel: await kvAtTopLevel,
      kvInHandler: await env.STORE.get('missing'),
      seen: this.seen,
      args: arguments.length,
      isEntrypoint: this instanceof WorkerEntrypoint,
      names: [WorkerEntrypoint.name, DurableObject.name, RpcTarget.name],
      rpc: new Session() instanceof RpcTarget,
      path: new URL(request.url).pathname,
    });
  }
  async scheduled(controller) {
    console.log('cron ' + controller.cron + ' with ' + this.env.GREETING);
  }
}
`;

t.test('a WorkerEntrypoint class serves requests and cron events', async (t) => {
  const metadata = {
    main_module: 'main.js',
    bindings: [
      { type: 'plain_text', name: 'GREETING', text: 'hello' },
      // A valid identifier: a binding like any other, not env's prototype.
      { type: 'json', name: '__proto__', json: { odd: true } },
      { type: 'kv_namespace', name: 'STORE', namespace_id: 'entry-store' },
    ],
  };
  const deployed = await deployMultipart(server, 'entry', metadata, { 'main.js': WORKER });
  t.equal(deployed.status, 201, deployed.text);
  for (const path of ['/one', '/two']) {
    const reply = await send(server, 'entry.localhost', path);
    t.equal(reply.status, 200, reply.text);
    t.same(reply.json(), {
      greeting: 'hello',
      sameEnv: true,
      imported: 'hello',
      atTopLevel: ['GREETING', '__proto__', 'STORE'],
      greetingAtTopLevel: 'hello',
      proto: { odd: true },
      prototypeKept: true,
      kvAtTopLevel: 'KV cannot be called in the global scope: only while handling a request',
      kvInHandler: null,
      seen: 1,
      args: 1,
      isEntrypoint: true,
      names: ['WorkerEntrypoint', 'DurableObject', 'RpcTarget'],
      rpc: true,
      path,
    }, `${path}: a new instance, constructed with (ctx, env); fetch gets the request alone`);
  }
  const cron = await admin(server, 'POST', '/v1/workers/entry/scheduled?cron=*/5+*+*+*+*');
  t.equal(cron.status, 200, cron.text);
  t.match(cron.json(), { outcome: 'ok', cron: '*/5 * * * *' });
  // Console lines reach the primary's log a few milliseconds after the record.
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('cron */5'); i++) {
    logs = (await admin(server, 'GET', '/v1/workers/entry/logs')).text;
    if (!logs.includes('cron */5')) await new Promise((resolve) => setTimeout(resolve, 40));
  }
  t.match(logs, /cron \*\/5 \* \* \* \* with hello/, 'scheduled(controller) ran with this.env');
});

t.test('other cloudflare: modules, and a class that is not a WorkerEntrypoint, are deploy errors', async (t) => {
  const sockets = await deployMultipart(server, 'entry', { main_module: 'main.js' }, { 'main.js': `import { connect } from 'cloudflare:sockets'; export default { fetch: () => new Response('x') };` });
  t.equal(sockets.status, 400, sockets.text);
  t.equal(sockets.json().error.code, 'ISO_ERR_DEPLOY_MODULE_MISSING');
  t.match(sockets.json().error.message, /"cloudflare:sockets".*cloudflare:workers/);

  const plain = await deployMultipart(server, 'entry', { main_module: 'main.js' }, { 'main.js': `export default class { fetch() { return new Response('x'); } }` });
  t.equal(plain.status, 400, plain.text);
  t.match(plain.json().error.message, /no fetch handler/);

  const still = await send(server, 'entry.localhost', '/still');
  t.equal(still.json().path, '/still', 'the live version keeps serving');
});

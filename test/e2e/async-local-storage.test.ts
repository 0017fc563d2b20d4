/**
 * AsyncLocalStorage (node:async_hooks) over real HTTP: Hono's contextStorage middleware, unchanged,
 * keeps each request's context through awaits and timers while 24 requests interleave in the same
 * isolates; a store set with enterWith does not pass to the next invocation; the nodejs_als flag allows
 * node:async_hooks alone.
 */
import { join } from 'node:path';
import t from 'tap';
import { bundleWorker } from '../helpers/bundle.ts';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const APP = `
import { Hono } from 'hono';
import { contextStorage, getContext } from 'hono/context-storage';
import { AsyncLocalStorage } from 'node:async_hooks';

const app = new Hono();
app.use(contextStorage());
app.use(async (c, next) => { c.set('user', c.req.query('user')); await next(); });

// Reads the request's context without being handed it, after a timer and a few awaits.
async function whoAsks() {
  const delay = Number(getContext().req.query('delay'));
  await new Promise((resolve) => setTimeout(resolve, delay));
  await Promise.resolve();
  return getContext().var.user;
}
app.get('/who', async (c) => c.json({ asked: c.req.query('user'), found: await whoAsks() }));

const storage = new AsyncLocalStorage();
app.get('/enter', (c) => {
  const before = storage.getStore() ?? null;
  storage.enterWith(c.req.query('value'));
  return c.json({ before, now: storage.getStore() });
});
export default app;
`;

t.test("Hono's contextStorage keeps each request's context while requests interleave", async (t) => {
  const source = await bundleWorker(APP, join(import.meta.dirname, '..', '..'));
  const deployed = await deployMultipart(server, 'als', { main_module: 'main.js', compatibility_flags: ['nodejs_compat'] }, { 'main.js': source });
  t.equal(deployed.status, 201, deployed.text);
  // Longer delays first: later requests overtake earlier ones inside the same isolate.
  const users = Array.from({ length: 24 }, (_, i) => ({ user: `user-${i}`, delay: 60 - (i % 6) * 10 }));
  const replies = await Promise.all(users.map(({ user, delay }) => send(server, 'als.localhost', `/who?user=${user}&delay=${delay}`)));
  t.same(
    replies.map((reply) => reply.json()),
    users.map(({ user }) => ({ asked: user, found: user })),
    'each found its own user',
  );
});

t.test('a store entered with enterWith does not pass to the next invocation', async (t) => {
  const first = await send(server, 'als.localhost', '/enter?value=one');
  t.same(first.json(), { before: null, now: 'one' });
  for (let i = 0; i < 4; i++) {
    const next = await send(server, 'als.localhost', `/enter?value=again-${i}`);
    t.same(next.json(), { before: null, now: `again-${i}` }, `request ${i + 2} starts without a store`);
  }
});

t.test('nodejs_als allows node:async_hooks alone; without a flag it is a 400', async (t) => {
  const als = `import { AsyncLocalStorage } from 'node:async_hooks';
    const storage = new AsyncLocalStorage();
    export default { fetch: () => storage.run('ok', async () => { await null; return new Response(storage.getStore()); }) };`;
  const deployed = await deployMultipart(server, 'als-only', { main_module: 'main.js', compatibility_flags: ['nodejs_als'] }, { 'main.js': als });
  t.equal(deployed.status, 201, deployed.text);
  t.equal((await send(server, 'als-only.localhost')).text, 'ok');
  const buffer = await deployMultipart(server, 'als-only', { main_module: 'main.js', compatibility_flags: ['nodejs_als'] }, { 'main.js': `import { Buffer } from 'node:buffer'; export default { fetch: () => new Response(Buffer.from('x')) };` });
  t.equal(buffer.status, 400, 'node:buffer needs nodejs_compat');
  const none = await deployMultipart(server, 'als-none', { main_module: 'main.js' }, { 'main.js': als });
  t.equal(none.status, 400, none.text);
  t.match(none.json().error.message, /"node:async_hooks".*nodejs_compat/);
});

t.test("another request's enterWith is not seen by a WebSocket's listener", async (t) => {
  const { default: WebSocket } = await import('ws');
  // One serving process: the WebSocket and the other request meet in the same isolate.
  const server = await startServer(t, { args: ['--executors', '1'] });
  const source = `import { AsyncLocalStorage } from 'node:async_hooks';
const storage = new AsyncLocalStorage();
export default { async fetch(request) {
  const url = new URL(request.url);
  if (url.pathname === '/ws') {
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    server.addEventListener('message', () => server.send(JSON.stringify(storage.getStore() ?? null)));
    return new Response(null, { status: 101, webSocket: client });
  }
  storage.enterWith({ user: url.searchParams.get('user') });
  return new Response('logged in');
} }`;
  t.equal((await deployMultipart(server, 'als-websocket', { main_module: 'main.js', compatibility_flags: ['nodejs_compat'] }, { 'main.js': source })).status, 201);
  const ws = new WebSocket(`${server.dataUrl.replace('http', 'ws')}/ws`, { headers: { host: 'als-websocket.localhost' } });
  t.teardown(() => ws.terminate());
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = () => new Promise<string>((resolve) => ws.once('message', (message) => resolve(String(message))));
  ws.send('before');
  t.equal(await next(), 'null');
  t.equal((await send(server, 'als-websocket.localhost', '/login?user=bob')).text, 'logged in');
  ws.send('after');
  t.equal(await next(), 'null', "the listener does not see bob's store");
});

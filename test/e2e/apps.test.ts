/**
 * A real application, unchanged: a Hono app bundled with esbuild from the npm package (as wrangler
 * would), uploaded through the admin API and exercised over HTTP. The assertions are Hono's documented
 * behaviour on a Workers runtime.
 */
import { SignJWT, jwtVerify } from 'jose';
import t from 'tap';
import { bundleWorker } from '../helpers/bundle.ts';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

const bundle = await bundleWorker(`
      import { Hono } from 'hono';
      import { cors } from 'hono/cors';
      import { etag } from 'hono/etag';
      import { basicAuth } from 'hono/basic-auth';
      import { stream } from 'hono/streaming';
      import { jwt, sign } from 'hono/jwt';
      const app = new Hono();
      app.use('/api/*', cors());
      app.use('/etag/*', etag());
      app.use('/admin/*', basicAuth({ username: 'ada', password: 'lovelace' }));
      app.get('/api/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null, env: c.env.GREETING }));
      app.post('/api/echo', async (c) => c.json(await c.req.json(), 201));
      app.get('/etag/page', (c) => c.text('stable content'));
      app.get('/admin/secret', (c) => c.text('welcome, ' + c.req.header('authorization')?.slice(0, 5)));
      app.get('/stream', (c) => stream(c, async (s) => { for (let i = 0; i < 3; i++) { await s.write('chunk' + i + ';'); await s.sleep(10); } }));
      app.use('/me/*', (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: 'HS256' })(c, next));
      app.get('/me/profile', (c) => c.json(c.get('jwtPayload')));
      app.post('/login', async (c) => c.json({ token: await sign({ sub: (await c.req.json()).user, exp: Math.floor(Date.now() / 1000) + 60 }, c.env.JWT_SECRET, 'HS256') }));
      app.notFound((c) => c.json({ error: 'not here' }, 404));
      export default app;
    `, import.meta.dirname);

const JWT_SECRET = 'the signing secret of the hono app';

const server = await startServer(t);
const deployed = await deployMultipart(
  server,
  'hono-app',
  { main_module: 'worker.js', bindings: [{ type: 'plain_text', name: 'GREETING', text: 'hi' }, { type: 'plain_text', name: 'JWT_SECRET', text: JWT_SECRET }], routes: ['app.example.com/*'] },
  { 'worker.js': bundle },
);

t.test('deployed through the upload API', async (t) => {
  t.equal(deployed.status, 201, deployed.text);
  t.ok(bundle.length > 20_000, `bundle of ${bundle.length} bytes`);
});

t.test('routing with params, query, env and JSON', async (t) => {
  const reply = await send(server, 'app.example.com', '/api/users/42?q=x');
  t.equal(reply.status, 200);
  t.same(reply.json(), { id: '42', q: 'x', env: 'hi' });
  t.equal(reply.headers['access-control-allow-origin'], '*', 'cors middleware');
  const echo = await send(server, 'app.example.com', '/api/echo', { method: 'POST', body: JSON.stringify({ a: [1, 2] }), headers: { 'content-type': 'application/json' } });
  t.equal(echo.status, 201);
  t.same(echo.json(), { a: [1, 2] });
  const preflight = await send(server, 'app.example.com', '/api/echo', { method: 'OPTIONS', headers: { origin: 'https://site.test', 'access-control-request-method': 'POST' } });
  t.equal(preflight.status, 204);
  t.match(preflight.headers['access-control-allow-methods'], /POST/);
  const missing = await send(server, 'app.example.com', '/nowhere');
  t.equal(missing.status, 404);
  t.same(missing.json(), { error: 'not here' });
});

t.test('etag middleware: an ETag, then 304 for If-None-Match', async (t) => {
  const first = await send(server, 'app.example.com', '/etag/page');
  t.equal(first.status, 200);
  const tag = first.headers.etag as string;
  t.match(tag, /^"[0-9a-f]{40}"$/, 'SHA-1 ETag from crypto.subtle.digest');
  const again = await send(server, 'app.example.com', '/etag/page', { headers: { 'if-none-match': tag } });
  t.equal(again.status, 304);
  t.equal(again.text, '');
});

t.test('basic-auth middleware', async (t) => {
  const denied = await send(server, 'app.example.com', '/admin/secret');
  t.equal(denied.status, 401);
  t.match(denied.headers['www-authenticate'], /^Basic/);
  const wrong = await send(server, 'app.example.com', '/admin/secret', { headers: { authorization: 'Basic ' + Buffer.from('ada:babbage').toString('base64') } });
  t.equal(wrong.status, 401);
  const ok = await send(server, 'app.example.com', '/admin/secret', { headers: { authorization: 'Basic ' + Buffer.from('ada:lovelace').toString('base64') } });
  t.equal(ok.status, 200);
  t.equal(ok.text, 'welcome, Basic');
});

t.test('a streaming route (bytes arrive whole: streaming to the client is still to come)', async (t) => {
  const reply = await send(server, 'app.example.com', '/stream');
  t.equal(reply.status, 200);
  t.equal(reply.text, 'chunk0;chunk1;chunk2;');
});

t.test('jwt middleware (HS256 through crypto.subtle): no token 401, valid token 200, bad signature 401', async (t) => {
  const secret = new TextEncoder().encode(JWT_SECRET);
  const token = await new SignJWT({ sub: 'ada', role: 'admin' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime('5m').sign(secret);
  const none = await send(server, 'app.example.com', '/me/profile');
  t.equal(none.status, 401);
  const ok = await send(server, 'app.example.com', '/me/profile', { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200, ok.text);
  t.match(ok.json(), { sub: 'ada', role: 'admin' });
  const forged = await new SignJWT({ sub: 'ada', role: 'admin' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime('5m').sign(new TextEncoder().encode('not the secret of the hono app'));
  const bad = await send(server, 'app.example.com', '/me/profile', { headers: { authorization: `Bearer ${forged}` } });
  t.equal(bad.status, 401);
  const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  t.equal((await send(server, 'app.example.com', '/me/profile', { headers: { authorization: `Bearer ${tampered}` } })).status, 401);
  // A token the worker signs (hono/jwt's sign) verifies in node.
  const login = await send(server, 'app.example.com', '/login', { method: 'POST', body: JSON.stringify({ user: 'grace' }), headers: { 'content-type': 'application/json' } });
  t.equal(login.status, 200, login.text);
  const issued = (login.json() as { token: string }).token;
  t.match((await jwtVerify(issued, secret)).payload, { sub: 'grace' });
  const back = await send(server, 'app.example.com', '/me/profile', { headers: { authorization: `Bearer ${issued}` } });
  t.equal(back.status, 200);
  t.match(back.json(), { sub: 'grace' });
});

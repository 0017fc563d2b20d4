/** A real framework on the runtime: a Hono app, bundled as a worker would be, served end to end. */
import t from 'tap';
import { bundleWorker } from '../helpers/bundle.ts';
import { TestWorker } from './harness.ts';

const app = await bundleWorker(`
      import { Hono } from 'hono';
      const app = new Hono();
      app.get('/', (c) => c.text('Hello Hono!'));
      app.get('/json/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q'), ua: c.req.header('user-agent'), env: c.env.NAME }));
      app.post('/echo', async (c) => c.json(await c.req.json(), 201));
      app.get('/redirect', (c) => c.redirect('/'));
      app.get('/later', (c) => { c.executionCtx.waitUntil(new Promise((resolve) => setTimeout(resolve, 5))); return c.text('later') });
      app.notFound((c) => c.text('nope', 404));
      export default app;
    `, import.meta.dirname);

const w = await TestWorker.create();
t.teardown(() => w.dispose());
t.equal(w.deployModule(app, { NAME: 'bound' }), 'module');

t.test('routes, params, query, headers, env', async (t) => {
  t.match(w.fetch('https://h.example/'), { status: 200, body: 'Hello Hono!', done: true });
  const json = w.fetch('https://h.example/json/42?q=x', { headers: { 'user-agent': 'ua' } });
  t.same([json.status, JSON.parse(json.body!)], [200, { id: '42', q: 'x', ua: 'ua', env: 'bound' }]);
  t.same(json.headers, ['content-type', 'application/json']);
});

t.test('request bodies, redirects, not found, waitUntil', async (t) => {
  const echo = w.fetch('https://h.example/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1]}' });
  t.same([echo.status, JSON.parse(echo.body!)], [201, { a: [1] }]);
  t.match(w.fetch('https://h.example/redirect'), { status: 302, headers: ['location', '/'], rawBody: null });
  t.match(w.fetch('https://h.example/missing'), { status: 404, body: 'nope' });
  const id = w.send('https://h.example/later');
  t.match(w.answerOf(id), { body: 'later', done: false });
  w.fireNextTimer();
  t.equal(w.answerOf(id).done, true);
  t.same(w.logs(), []);
});

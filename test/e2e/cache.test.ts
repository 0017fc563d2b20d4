/**
 * The Cache API (caches.default, caches.open) over real HTTP: what a worker puts it matches later, per
 * worker and per cache name; the response's headers decide whether and how long it is kept, as on
 * Cloudflare; conditional and range requests are answered from the stored response; a deleted worker's
 * entries do not reach a new worker of the same name. One serving process, whose cache every request sees.
 */
import t from 'tap';
import { admin, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--executors', '1'] });

// /put, /match, /delete on key `key` of cache `cache` (the default one when absent); /errors tries the
// puts Workers refuses. Response headers and request headers come as JSON in the query.
const WORKER = `export default { async fetch(request) {
  const u = new URL(request.url);
  const q = (name, fallback) => u.searchParams.get(name) ?? fallback;
  const cache = u.searchParams.has('cache') ? await caches.open(q('cache')) : caches.default;
  const key = 'https://example.com/' + q('key', 'item');
  switch (u.pathname) {
    case '/put':
      await cache.put(key, new Response(q('body', 'cached body'), { status: Number(q('status', '200')), headers: JSON.parse(q('headers', '{}')) }));
      return Response.json('put');
    case '/match': {
      const found = await cache.match(new Request(key, { headers: JSON.parse(q('req', '{}')) }));
      if (!found) return Response.json({ found: false });
      return Response.json({ found: true, status: found.status, body: await found.text(), headers: Object.fromEntries(found.headers) });
    }
    case '/delete':
      return Response.json(await cache.delete(key));
    case '/shape': {
      let constructed = 'constructed';
      try { new Cache(); } catch (e) { constructed = e.name; }
      return Response.json([caches.default === caches.default, String(caches), String(caches.default), (await caches.open('x')) instanceof Cache, constructed]);
    }
    case '/errors': {
      const tries = [
        () => cache.put(new Request(key, { method: 'POST' }), new Response('x')),
        () => cache.put(key, new Response('x', { status: 206 })),
        () => cache.put(key, new Response('x', { headers: { vary: 'Accept, *' } })),
        () => { const used = new Response('x'); return used.text().then(() => cache.put(key, used)); },
      ];
      const out = [];
      for (const attempt of tries) await attempt().then(() => out.push('stored'), (e) => out.push(e.name + ': ' + e.message));
      return Response.json(out);
    }
  }
  return new Response('?', { status: 404 });
} }`;

const call = async (worker: string, path: string, query: Record<string, string | Record<string, string>> = {}) => {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const reply = await send(server, `${worker}.localhost`, `${path}?${params}`);
  t.equal(reply.status, 200, `${worker} ${path} ${params}: ${reply.text.slice(0, 200)}`);
  return reply.json();
};

await deployScript(server, 'shop', WORKER);
await deployScript(server, 'other', WORKER);

t.test('put then match: the stored response, marked HIT; delete removes it', async (t) => {
  await call('shop', '/put', { key: 'a', headers: { 'content-type': 'text/plain', etag: '"v1"' } });
  const hit = await call('shop', '/match', { key: 'a' });
  t.match(hit, { found: true, status: 200, body: 'cached body', headers: { 'content-type': 'text/plain', etag: '"v1"', 'cf-cache-status': 'HIT' } });
  t.same(await call('shop', '/match', { key: 'b' }), { found: false }, 'another key misses');
  t.equal(await call('shop', '/delete', { key: 'a' }), true);
  t.equal(await call('shop', '/delete', { key: 'a' }), false, 'nothing left to delete');
  t.same(await call('shop', '/match', { key: 'a' }), { found: false });
});

t.test('caches are per worker and per name', async (t) => {
  await call('shop', '/put', { key: 'shared', body: 'from shop' });
  t.same(await call('other', '/match', { key: 'shared' }), { found: false }, "another worker does not see shop's entry");
  t.same(await call('shop', '/match', { key: 'shared', cache: 'mine' }), { found: false }, 'a named cache is not the default one');
  await call('shop', '/put', { key: 'shared', cache: 'mine', body: 'named' });
  t.equal((await call('shop', '/match', { key: 'shared', cache: 'mine' })).body, 'named');
  t.equal((await call('shop', '/match', { key: 'shared' })).body, 'from shop', 'and the default one keeps its own');
});

t.test("the response's headers decide what is kept and for how long", async (t) => {
  const kept = async (key: string, query: Record<string, string | Record<string, string>>) => {
    await call('shop', '/put', { key, ...query });
    return (await call('shop', '/match', { key })) as { found: boolean; headers?: Record<string, string> };
  };
  t.equal((await kept('no-store', { headers: { 'cache-control': 'no-store' } })).found, false, 'no-store');
  t.equal((await kept('private', { headers: { 'cache-control': 'private, max-age=60' } })).found, false, 'private');
  t.equal((await kept('cookie', { headers: { 'set-cookie': 'session=1' } })).found, false, 'a Set-Cookie');
  const withoutCookie = await kept('cookie-ok', { headers: { 'set-cookie': 'session=1', 'cache-control': 'private=Set-Cookie, max-age=60' } });
  t.equal(withoutCookie.found, true, 'private=Set-Cookie stores it');
  t.equal(withoutCookie.headers?.['set-cookie'], undefined, 'without the cookie');
  t.equal((await kept('zero', { headers: { 'cache-control': 'max-age=0' } })).found, false, 'max-age=0');
  t.equal((await kept('expired', { headers: { expires: 'Thu, 01 Jan 2015 00:00:00 GMT' } })).found, false, 'an Expires in the past');
  t.equal((await kept('server-error', { status: '500' })).found, false, 'a 500 without caching headers');
  t.equal((await kept('missing', { status: '404' })).found, true, 'a 404 has a default TTL');
  t.equal((await kept('short', { headers: { 'cache-control': 'max-age=1' } })).found, true, 'max-age=1, at once');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  t.same(await call('shop', '/match', { key: 'short' }), { found: false }, 'max-age=1, 1.2 s later');
  t.equal((await kept('s-maxage', { headers: { 'cache-control': 'max-age=0, s-maxage=60' } })).found, true, 's-maxage wins over max-age');
});

t.test('conditional and range requests are answered from the stored response', async (t) => {
  await call('shop', '/put', { key: 'doc', body: '0123456789', headers: { etag: 'W/"abc"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT' } });
  t.match(await call('shop', '/match', { key: 'doc', req: { 'if-none-match': '"other", "abc"' } }), { found: true, status: 304, body: '' });
  t.match(await call('shop', '/match', { key: 'doc', req: { 'if-none-match': '"other"' } }), { found: true, status: 200, body: '0123456789' });
  t.match(await call('shop', '/match', { key: 'doc', req: { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' } }), { status: 304 });
  t.match(await call('shop', '/match', { key: 'doc', req: { range: 'bytes=2-4' } }), { status: 206, body: '234', headers: { 'content-range': 'bytes 2-4/10' } });
  t.match(await call('shop', '/match', { key: 'doc', req: { range: 'bytes=-3' } }), { status: 206, body: '789' });
  t.match(await call('shop', '/match', { key: 'doc', req: { range: 'bytes=20-' } }), { status: 416, headers: { 'content-range': 'bytes */10' } });
});

t.test('caches, Cache and CacheStorage are shaped as on Workers', async (t) => {
  t.same(await call('shop', '/shape'), [true, '[object CacheStorage]', '[object Cache]', true, 'TypeError']);
});

t.test('puts Workers refuses are TypeErrors', async (t) => {
  const errors = (await call('shop', '/errors')) as string[];
  t.match(errors, [/^TypeError: .*non-GET/, /^TypeError: .*206/, /^TypeError: .*Vary: \*/, /^TypeError: .*already read/]);
});

t.test("a deleted worker's entries do not reach a new worker of the same name", async (t) => {
  await deployScript(server, 'reborn', WORKER);
  await call('reborn', '/put', { key: 'secret', body: 'first owner' });
  t.equal((await call('reborn', '/match', { key: 'secret' })).found, true);
  t.equal((await admin(server, 'DELETE', '/v1/workers/reborn')).status, 200);
  await deployScript(server, 'reborn', WORKER);
  t.same(await call('reborn', '/match', { key: 'secret' }), { found: false });
});

t.test("a deleted worker's unfinished work ends with it: a new worker of that name finds nothing of it", async (t) => {
  const old = `export default { async fetch(request, env, ctx) {
    ctx.waitUntil(scheduler.wait(800).then(() =>
      caches.default.put('https://reborn.example/secret', new Response('the old tenant\\'s data', { headers: { 'cache-control': 'max-age=3600' } }))));
    return new Response('old answered');
  } }`;
  const reborn = `export default { async fetch() {
    const hit = await caches.default.match('https://reborn.example/secret');
    return new Response(hit ? 'found: ' + await hit.text() : 'found nothing');
  } }`;
  const deployed = await deployScript(server, 'reincarnated', old);
  t.equal(deployed.status, 201, deployed.text);
  t.equal((await send(server, 'reincarnated.localhost')).text, 'old answered');
  t.equal((await admin(server, 'DELETE', '/v1/workers/reincarnated')).status, 200);
  t.equal((await deployScript(server, 'reincarnated', reborn)).status, 201);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal((await send(server, 'reincarnated.localhost')).text, 'found nothing', "the old worker's waitUntil was canceled with it");
  const oldRecord = server.logs.find((line) => line.type === 'invocation' && line.worker === 'reincarnated' && line.status === 200 && line.outcome !== 'ok');
  t.equal(oldRecord?.outcome, 'canceled', 'its record says so');
});

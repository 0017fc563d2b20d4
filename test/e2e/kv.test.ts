/**
 * KV bindings over real HTTP: a worker bound to a namespace reads and writes it (text, JSON, bytes,
 * streams, metadata, expiration, list with cursors); the admin API sees the same data and can seed it;
 * workers bound to the same id share it, others do not see it; both serving processes see each write;
 * the data survives a restart; bad keys, values and options are clear errors.
 */
import t from 'tap';
import { admin, deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const WORKER = `export default { async fetch(request, env) {
  const u = new URL(request.url);
  const q = (name) => u.searchParams.get(name);
  const kv = env.STORE;
  switch (u.pathname) {
    case '/put': {
      const options = {};
      if (q('ttl')) options.expirationTtl = Number(q('ttl'));
      if (q('meta')) options.metadata = JSON.parse(q('meta'));
      await kv.put(q('key'), q('bytes') ? new Uint8Array(q('bytes').split(',').map(Number)) : q('stream') ? new Blob([q('stream')]).stream() : q('value'), options);
      return Response.json('ok');
    }
    case '/get': {
      const value = await kv.get(q('key'), q('type') ?? undefined);
      if (value instanceof ArrayBuffer) return Response.json({ bytes: [...new Uint8Array(value)] });
      if (value instanceof ReadableStream) return Response.json({ stream: await new Response(value).text() });
      return Response.json({ value });
    }
    case '/meta':
      return Response.json(await kv.getWithMetadata(q('key')));
    case '/delete':
      await kv.delete(q('key'));
      return Response.json('deleted');
    case '/list':
      return Response.json(await kv.list({ prefix: q('prefix') ?? undefined, limit: q('limit') ? Number(q('limit')) : undefined, cursor: q('cursor') ?? undefined }));
    case '/errors': {
      const errors = [];
      for (const attempt of [
        () => kv.put('', 'x'),
        () => kv.put('k'.repeat(513), 'x'),
        () => kv.put('k', 'x', { expirationTtl: 10 }),
        () => kv.put('k', { an: 'object' }),
        () => kv.put('k', 'x', { metadata: { big: 'm'.repeat(1100) } }),
        () => kv.get('k', 'xml'),
        () => kv.list({ limit: 5000 }),
        () => kv.list({ cursor: 'not-a-cursor!' }),
      ]) {
        try { await attempt(); errors.push('no error'); } catch (e) { errors.push(e.constructor.name + ': ' + e.message); }
      }
      return Response.json(errors);
    }
    case '/many': {
      let failed = null;
      for (let i = 0; i < 1001 && failed === null; i++) {
        try { await kv.get('x' + i); } catch (e) { failed = [i, e.message]; }
      }
      return Response.json(failed);
    }
    case '/shape':
      return Response.json([String(kv), Object.keys(kv), typeof kv.get]);
    case '/primitives': {
      // A counter as plain JS keeps it: a number, a boolean, null, stored as their text (workerd's conversion).
      const views = Number((await kv.get('views')) ?? 0);
      await kv.put('views', views + 1);
      await kv.put('flag', true);
      await kv.put('nothing', null);
      return Response.json([await kv.get('views'), await kv.get('flag'), await kv.get('nothing')]);
    }
    case '/bulk': {
      await kv.put('b1', '{"n":1}', { metadata: { m: 1 } });
      await kv.put('b2', '"two"');
      const texts = await kv.get(['b1', 'b2', 'absent']);
      const json = await kv.get(['b1', 'b2'], 'json');
      const meta = await kv.getWithMetadata(['b1', 'absent'], { type: 'json' });
      const errors = [];
      for (const attempt of [() => kv.get(['b1'], 'arrayBuffer'), () => kv.get(Array.from({ length: 101 }, (_, i) => 'k' + i))]) {
        try { await attempt(); errors.push('no error'); } catch (e) { errors.push(e.name); }
      }
      // A bulk get is one operation of the 1,000: twenty of 100 keys fit.
      let bulks = 0;
      try { for (; bulks < 20; bulks++) await kv.get(Array.from({ length: 100 }, (_, i) => 'b' + (i % 3))); } catch (e) { errors.push(e.message); }
      return Response.json({ isMap: texts instanceof Map, texts: [...texts], json: [...json], meta: [...meta], errors, bulks });
    }
  }
  return new Response('not found', { status: 404 });
} };`;

const deploy = (name: string, namespace: string) =>
  deployMultipart(server, name, { main_module: 'main.js', bindings: [{ type: 'kv_namespace', name: 'STORE', namespace_id: namespace }] }, { 'main.js': WORKER });
const call = async (worker: string, path: string) => {
  const res = await send(server, `${worker}.localhost`, path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.json();
};

t.before(async () => {
  for (const [name, namespace] of [['app', 'app-data'], ['twin', 'app-data'], ['other', 'other-data']]) {
    const res = await deploy(name, namespace);
    if (res.status !== 201) throw new Error(res.text);
  }
});

t.test('values in every form, metadata and expiration, through the binding', async (t) => {
  t.equal(await call('app', '/put?key=greeting&value=' + encodeURIComponent('héllo ✓')), 'ok');
  t.same(await call('app', '/get?key=greeting'), { value: 'héllo ✓' });
  t.same(await call('app', '/get?key=missing'), { value: null });
  await call('app', '/put?key=config&value=' + encodeURIComponent('{"a":[1,2]}'));
  t.same(await call('app', '/get?key=config&type=json'), { value: { a: [1, 2] } });
  await call('app', '/put?key=bin&bytes=0,255,7');
  t.same(await call('app', '/get?key=bin&type=arrayBuffer'), { bytes: [0, 255, 7] });
  t.same(await call('app', '/get?key=bin&type=stream'), { stream: '\u0000\ufffd\u0007' });
  await call('app', '/put?key=streamed&stream=from%20a%20stream');
  t.same(await call('app', '/get?key=streamed'), { value: 'from a stream' });
  await call('app', '/put?key=tagged&value=v&ttl=120&meta=' + encodeURIComponent('{"owner":"ada"}'));
  t.same(await call('app', '/meta?key=tagged'), { value: 'v', metadata: { owner: 'ada' }, cacheStatus: null });
  const listed = await call('app', '/list?prefix=tag');
  t.equal(listed.keys.length, 1);
  t.match(listed.keys[0], { name: 'tagged', metadata: { owner: 'ada' } });
  const expiration = listed.keys[0].expiration as number;
  t.ok(Math.abs(expiration - (Date.now() / 1000 + 120)) < 5, 'expiration is now + expirationTtl, in seconds');
  t.same(await call('app', '/shape'), ['[object KVNamespace]', [], 'function']);
  t.equal(await call('app', '/delete?key=greeting'), 'deleted');
  t.same(await call('app', '/get?key=greeting'), { value: null });
});

t.test('list pages through keys in order with a cursor', async (t) => {
  for (let i = 0; i < 7; i++) await call('app', `/put?key=page:${i}&value=${i}`);
  const first = await call('app', '/list?prefix=page:&limit=3');
  t.same(first.keys.map((k: { name: string }) => k.name), ['page:0', 'page:1', 'page:2']);
  t.equal(first.list_complete, false);
  const second = await call('app', `/list?prefix=page:&limit=3&cursor=${first.cursor}`);
  t.same(second.keys.map((k: { name: string }) => k.name), ['page:3', 'page:4', 'page:5']);
  const last = await call('app', `/list?prefix=page:&limit=3&cursor=${second.cursor}`);
  t.same(last.keys.map((k: { name: string }) => k.name), ['page:6']);
  t.equal(last.list_complete, true);
  t.notOk('cursor' in last);
});

t.test('shared by workers bound to the same id, seen by both serving processes, invisible to others', async (t) => {
  await call('app', '/put?key=shared&value=one');
  // Fresh connections land on either serving process: every read sees the write.
  for (let i = 0; i < 6; i++) t.same(await call('twin', '/get?key=shared'), { value: 'one' });
  t.same(await call('other', '/get?key=shared'), { value: null }, 'another namespace');
});

t.test('the admin API reads, seeds, lists and clears the same data', async (t) => {
  const seeded = await admin(server, 'PUT', '/v1/kv/app-data/values/' + encodeURIComponent('seed/one'), { body: 'planted', headers: { 'x-kv-metadata': '{"by":"admin"}' } });
  t.equal(seeded.status, 200, seeded.text);
  t.same(await call('app', '/meta?key=' + encodeURIComponent('seed/one')), { value: 'planted', metadata: { by: 'admin' }, cacheStatus: null });
  await call('app', '/put?key=from-worker&value=hi');
  const read = await admin(server, 'GET', '/v1/kv/app-data/values/from-worker');
  t.equal(read.text, 'hi');
  t.equal((await admin(server, 'GET', '/v1/kv/app-data/values/nope')).json().error.code, 'ISO_ERR_KV_NOT_FOUND');
  t.ok((await admin(server, 'GET', '/v1/kv/app-data/keys?prefix=seed')).json().keys.some((k: { name: string }) => k.name === 'seed/one'));
  t.equal((await admin(server, 'PUT', '/v1/kv/app-data/values/short?expiration_ttl=5', { body: 'x' })).json().error.code, 'ISO_ERR_KV_INVALID');
  t.equal((await admin(server, 'GET', '/v1/kv/bad%20id/keys')).status, 400);
  t.equal((await admin(server, 'GET', '/v1/kv/app-data/keys', { token: null })).status, 401);
  t.equal((await admin(server, 'DELETE', '/v1/kv/other-data')).status, 200);
  t.equal((await admin(server, 'DELETE', '/v1/kv/app-data/values/from-worker')).status, 200);
  t.same(await call('app', '/get?key=from-worker'), { value: null });
});

t.test('bad keys, values and options are TypeErrors naming the problem; 1,000 operations a request', async (t) => {
  const errors = (await call('app', '/errors')) as string[];
  t.match(errors, [
    /TypeError: KV: a KV key must not be empty/,
    /TypeError: KV: a KV key is at most 512 bytes/,
    /TypeError: KV: expirationTtl must be at least 60 seconds/,
    /TypeError: KV put\(\) accepts only strings/,
    /TypeError: KV: KV metadata is at most 1024 bytes/,
    /TypeError: KV get\(\) type must be/,
    /TypeError: KV: limit must be 1 to 1000/,
    /TypeError: KV: the cursor is not one a list returned/,
  ]);
  t.same(await call('app', '/many'), [1000, 'KV: a request may make at most 1000 KV operations.']);
  const badBinding = await deployMultipart(server, 'broken', { main_module: 'main.js', bindings: [{ type: 'kv_namespace', name: 'STORE', namespace_id: '../etc' }] }, { 'main.js': WORKER });
  t.equal(badBinding.status, 400);
  t.match(badBinding.json().error, { code: 'ISO_ERR_DEPLOY_BINDING', message: /namespace_id/ });
});

t.test('a number, a boolean or null is stored as its text; a bulk get answers a Map, as on Workers', async (t) => {
  t.same(await call('app', '/primitives'), ['1', 'true', 'null']);
  t.same(await call('app', '/primitives'), ['2', 'true', 'null'], 'the counter counts');
  t.same(await call('app', '/bulk'), {
    isMap: true,
    texts: [['b1', '{"n":1}'], ['b2', '"two"'], ['absent', null]],
    json: [['b1', { n: 1 }], ['b2', 'two']],
    meta: [['b1', { value: { n: 1 }, metadata: { m: 1 } }], ['absent', { value: null, metadata: null }]],
    errors: ['TypeError', 'TypeError'],
    bulks: 20,
  });
});

t.test('the data survives a restart', async (t) => {
  await call('app', '/put?key=durable&value=kept');
  await server.stop();
  const again = await startServer(t, { dataDir: server.dataDir });
  const res = await send(again, 'app.localhost', '/get?key=durable');
  t.same(res.json(), { value: 'kept' });
});

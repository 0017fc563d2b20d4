import t from 'tap';
import { gunzipSync, inflateSync } from 'node:zlib';
import { Client, request } from 'undici';
import { admin, deployMultipart, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

t.test('a single ES module upload serves requests by Host', async (t) => {
  const res = await deployScript(server, 'hello', `export default { fetch(request, env, ctx) { return new Response('hello from ' + new URL(request.url).pathname) } }`);
  t.equal(res.status, 201, res.text);
  t.match(res.json(), { worker: 'hello', syntax: 'module', version: /^[0-9a-f]{20}$/ });
  const reply = await send(server, 'hello.localhost:8080', '/abc?x=1');
  t.equal(reply.status, 200);
  t.equal(reply.text, 'hello from /abc');
  t.match(reply.headers['content-type'], /text\/plain/);
  t.equal(reply.headers['content-length'], String('hello from /abc'.length), 'sent with a length, not chunked');
  t.equal(reply.headers['transfer-encoding'], undefined);
});

t.test('multipart upload: modules importing each other, bindings, text and json modules, routes', async (t) => {
  const res = await deployMultipart(
    server,
    'multi',
    {
      main_module: 'src/main.js',
      bindings: [
        { type: 'plain_text', name: 'GREETING', text: 'hi' },
        { type: 'secret_text', name: 'API_KEY', text: 's3cret' },
        { type: 'json', name: 'SETTINGS', json: { n: 3 } },
      ],
      compatibility_date: '2024-09-23',
      routes: ['api.example.com/*'],
    },
    {
      'src/main.js': `import { shout } from './lib/shout.js'; import note from '../note.txt'; import data from './data.json';
        export default { async fetch(req, env) { return Response.json({ greeting: shout(env.GREETING), secretLength: env.API_KEY.length, n: env.SETTINGS.n, note, data }) } }`,
      'src/lib/shout.js': `export function shout(s) { return s.toUpperCase() + '!' }`,
      'note.txt': { content: 'a text module', type: 'text/plain' },
      'src/data.json': { content: '{"ok":true}', type: 'application/json' },
    },
  );
  t.equal(res.status, 201, res.text);
  t.same(res.json().routes, ['api.example.com/*']);
  const reply = await send(server, 'API.Example.com', '/v1/things');
  t.equal(reply.status, 200, reply.text);
  t.same(reply.json(), { greeting: 'HI!', secretLength: 6, n: 3, note: 'a text module', data: { ok: true } });
  const described = (await admin(server, 'GET', '/v1/workers/multi')).json();
  t.same(described.active.bindings, [
    { name: 'GREETING', type: 'plain_text' },
    { name: 'API_KEY', type: 'secret_text' },
    { name: 'SETTINGS', type: 'json' },
  ]);
  t.notMatch(JSON.stringify(described), /s3cret/, 'secret values are never shown');
});

t.test('service-worker syntax, as a multipart body_part and as a single file', async (t) => {
  const sw = `const atStart = GREETING + ',' + typeof STORE; addEventListener('fetch', (event) => { event.respondWith(STORE.get('k').then((v) => new Response('sw:' + GREETING + ':' + atStart + ':' + v))) })`;
  const bindings = [
    { type: 'plain_text', name: 'GREETING', text: 'yo' },
    { type: 'kv_namespace', name: 'STORE', namespace_id: 'sw-store' },
  ];
  const res = await deployMultipart(server, 'sw', { body_part: 'script', bindings }, { script: { content: sw, type: 'application/javascript' } });
  t.equal(res.status, 201, res.text);
  t.equal(res.json().syntax, 'service-worker');
  t.equal((await send(server, 'sw.localhost')).text, 'sw:yo:yo,object:null', 'bindings are globals, KV ones too, at top level too');

  const single = await deployScript(server, 'sw-single', `addEventListener('fetch', (e) => e.respondWith(new Response('single sw')))`);
  t.equal(single.status, 201, single.text);
  t.equal(single.json().syntax, 'service-worker');
  t.equal((await send(server, 'sw-single.localhost')).text, 'single sw');
});

t.test('no worker for a host: 404 naming the host; missing Host: 400', async (t) => {
  const reply = await send(server, 'nobody.example.org');
  t.equal(reply.status, 404);
  t.match(reply.json(), { error: { code: 'ISO_ERR_ROUTE_NOT_FOUND', message: /nobody\.example\.org/ } });
  const net = await import('node:net');
  const url = new URL(server.dataUrl);
  const raw = await new Promise<string>((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    let data = '';
    socket.on('data', (c) => (data += c));
    socket.on('end', () => resolve(data));
  });
  t.match(raw, /^HTTP\/1\.1 400/);
  t.match(raw, /ISO_ERR_HTTP_HOST_MISSING/);
});

t.test('the most specific route wins', async (t) => {
  for (const [name, body] of [['star-sub', 'wildcard'], ['www', 'www'], ['apex', 'apex'], ['apex-api', 'apex-api']]) {
    t.equal((await deployScript(server, name!, `export default { fetch() { return new Response(${JSON.stringify(body)}) } }`)).status, 201);
  }
  for (const [pattern, worker] of [['*.shop.test/*', 'star-sub'], ['www.shop.test/*', 'www'], ['shop.test/*', 'apex'], ['shop.test/api/*', 'apex-api']]) {
    const res = await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern, worker }), headers: { 'content-type': 'application/json' } });
    t.equal(res.status, 200, res.text);
  }
  t.equal((await send(server, 'www.shop.test')).text, 'www', 'exact host beats *.host');
  t.equal((await send(server, 'cdn.shop.test')).text, 'wildcard');
  t.equal((await send(server, 'shop.test', '/api/x')).text, 'apex-api', 'longer path beats /*');
  t.equal((await send(server, 'shop.test', '/other')).text, 'apex');
  t.equal((await send(server, 'SHOP.test:9999', '/')).text, 'apex', 'host case and port are ignored');
  const listed = (await admin(server, 'GET', '/v1/routes')).json().routes;
  t.ok(listed.some((r: { pattern: string }) => r.pattern === 'shop.test/api/*'));
  t.equal((await admin(server, 'DELETE', '/v1/routes?pattern=shop.test/api/*')).status, 200);
  t.equal((await send(server, 'shop.test', '/api/x')).text, 'apex', 'after the route is deleted the next one serves');
  t.equal((await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern: 'x.test/*', worker: 'ghost' }) })).status, 404);
  t.equal((await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern: 'http://x.test/*', worker: 'www' }) })).json().error.code, 'ISO_ERR_ROUTE_INVALID');
});

t.test('redeploy switches version with no failed request; versions and rollback', async (t) => {
  const v1 = (await deployScript(server, 'flip', `export default { fetch() { return new Response('v1') } }`)).json().version;
  let stop = false;
  const seen: Record<string, number> = {};
  const loop = async () => {
    while (!stop) {
      const reply = await send(server, 'flip.localhost');
      seen[`${reply.status} ${reply.text}`] = (seen[`${reply.status} ${reply.text}`] ?? 0) + 1;
    }
  };
  const loads = [loop(), loop(), loop()];
  await new Promise((r) => setTimeout(r, 100));
  const second = await deployScript(server, 'flip', `export default { fetch() { return new Response('v2') } }`);
  t.equal(second.status, 200, 'redeploy of an existing worker answers 200');
  const v2 = second.json().version;
  t.equal((await send(server, 'flip.localhost')).text, 'v2', 'the deploy answers once the new version serves');
  await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await Promise.all(loads);
  t.same(Object.keys(seen).sort(), ['200 v1', '200 v2'], `only successful answers: ${JSON.stringify(seen)}`);

  const versions = (await admin(server, 'GET', '/v1/workers/flip/versions')).json();
  t.same(versions.versions.map((v: { id: string }) => v.id), [v2, v1]);
  t.equal(versions.activeVersion, v2);
  const rolled = await admin(server, 'POST', '/v1/workers/flip/rollback');
  t.equal(rolled.status, 200, rolled.text);
  t.equal(rolled.json().activeVersion, v1);
  t.equal((await send(server, 'flip.localhost')).text, 'v1');
  const forward = await admin(server, 'POST', '/v1/workers/flip/rollback', { body: JSON.stringify({ version: v2 }) });
  t.equal(forward.json().activeVersion, v2);
  t.equal((await send(server, 'flip.localhost')).text, 'v2');
  t.equal((await admin(server, 'POST', '/v1/workers/flip/rollback', { body: JSON.stringify({ version: 'nope' }) })).status, 404);
});

t.test('list, describe and delete workers', async (t) => {
  const list = (await admin(server, 'GET', '/v1/workers')).json().workers.map((w: { name: string }) => w.name);
  t.ok(list.includes('hello') && list.includes('multi'));
  t.equal((await admin(server, 'DELETE', '/v1/workers/hello')).status, 200);
  t.equal((await send(server, 'hello.localhost')).status, 404, 'a deleted worker stops serving');
  t.equal((await admin(server, 'GET', '/v1/workers/hello')).status, 404);
  t.equal((await admin(server, 'DELETE', '/v1/workers/hello')).json().error.code, 'ISO_ERR_WORKER_NOT_FOUND');
});

t.test('crypto.randomUUID and getRandomValues draw on the host CSPRNG', async (t) => {
  await deployScript(server, 'dice', `export default { fetch() { return Response.json({ id: crypto.randomUUID(), bytes: [...crypto.getRandomValues(new Uint8Array(8))] }) } }`);
  const first = (await send(server, 'dice.localhost')).json();
  const second = (await send(server, 'dice.localhost')).json();
  t.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(first.id, second.id);
  t.equal(first.bytes.length, 8);
});

t.test('URLs with international domain names: the IDNA tables are a runtime chunk, loaded on first use', async (t) => {
  await deployScript(server, 'idna', `export default { fetch() { return Response.json([new URL('http://Bücher.example/').host, new URL('http://xn--bcher-kva.example/').host, new URL('http://plain.example/').host]) } }`);
  const reply = await send(server, 'idna.localhost');
  t.equal(reply.status, 200, reply.text);
  t.same(reply.json(), ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'plain.example']);
});

t.test('a deploy answers once every serving process has built the version: no first request waits for it', async (t) => {
  // A fresh server, and a worker allowed more than 200 ms of CPU: it runs on each process's offload
  // thread, which starts on first need (0.6-2 s). Before the deploy waited for the other processes'
  // builds, a request taken by the process that had not validated waited for that start with its wall
  // time running: 480-1,700 ms for this worker.
  const fresh = await startServer(t);
  const res = await deployMultipart(fresh, 'heavy-first', { main_module: 'main.js', limits: { cpu_ms: 1_000 } }, { 'main.js': `export default { fetch() { return new Response('ready') } }` });
  t.equal(res.status, 201, res.text);
  // Fresh connections are handed to the serving processes in turn: four reach both.
  const clients = Array.from({ length: 4 }, () => new Client(fresh.dataUrl));
  t.teardown(() => Promise.all(clients.map((client) => client.close())));
  const replies = await Promise.all(clients.map(async (client) => {
    const started = performance.now();
    const res = await client.request({ path: '/', method: 'GET', headers: { host: 'heavy-first.localhost' } });
    return { text: await res.body.text(), ms: performance.now() - started };
  }));
  for (const reply of replies) t.equal(reply.text, 'ready');
  const slowest = Math.max(...replies.map((reply) => reply.ms));
  // 20-45 ms here with the fix, also next to another suite's load; 374-444 ms without it.
  t.ok(slowest < 250, `the slowest first request took ${slowest.toFixed(0)} ms`);
});

t.test("top-level code: console lines go to the worker's log; I/O and timers throw a clear error; no host frames", async (t) => {
  const res = await deployScript(server, 'toplog', `console.log('starting up'); export default { fetch() { return new Response('up') } }`);
  t.equal(res.status, 201, res.text);
  t.equal((await send(server, 'toplog.localhost')).text, 'up');
  const logs = (await admin(server, 'GET', '/v1/workers/toplog/logs')).json().lines as { level: string; message: string; requestId: string | null }[];
  t.ok(logs.some((l) => l.message === 'starting up' && l.requestId === null), 'the line is in the log, outside any request');
  const caught = await deployScript(
    server,
    'topcaught',
    `const errors = [];
     try { setTimeout(() => {}, 10); } catch (e) { errors.push(e.name + ': ' + e.message + ' | ' + e.stack); }
     await fetch('https://example.com/').catch((e) => errors.push(e.name + ': ' + e.message + ' | ' + e.stack));
     export default { fetch() { return Response.json(errors) } }`,
  );
  t.equal(caught.status, 201, caught.text);
  const errors = (await send(server, 'topcaught.localhost')).json() as string[];
  t.equal(errors.length, 2);
  t.match(errors[0], /^Error: setTimeout\(\) and setInterval\(\) cannot be called in the global scope/);
  t.match(errors[1], /fetch\(\) cannot be called in the global scope/);
  for (const error of errors) t.notMatch(error, /file:|\.ts:|#onTopLevelCall|executor/, 'no host paths or names');
  const uncaught = await deployScript(server, 'toptimer', `setTimeout(() => {}, 10); export default { fetch() { return new Response('never') } }`);
  t.equal(uncaught.status, 400);
  t.match(uncaught.json(), { error: { code: 'ISO_ERR_DEPLOY_STARTUP', message: /cannot be called in the global scope/ } });
  t.notMatch(uncaught.text, /file:|\.ts:/);
});

t.test('two deploys racing for one route: never both told they hold it', async (t) => {
  for (let round = 0; round < 5; round++) {
    const pattern = `race${round}.test/*`;
    const claims = await Promise.all(
      ['racer-a', 'racer-b'].map((name) =>
        deployMultipart(server, name, { main_module: 'w.js', routes: [pattern] }, { 'w.js': `export default { fetch() { return new Response('${name} ${round}') } }` }),
      ),
    );
    const holders = claims.filter((reply) => reply.status < 300 && (reply.json().routes as string[]).includes(pattern));
    t.equal(holders.length, 1, `round ${round}: one deploy holds ${pattern} (${claims.map((c) => c.status).join(', ')})`);
    const loser = claims.find((reply) => !holders.includes(reply))!;
    t.equal(loser.status, 400);
    t.match(loser.json().error, { code: 'ISO_ERR_ROUTE_INVALID', message: /already belongs/ });
    const owner = ((await admin(server, 'GET', '/v1/routes')).json().routes as { pattern: string; worker: string }[]).find((route) => route.pattern === pattern)?.worker;
    t.equal(owner, holders[0]!.json().worker, 'the store agrees');
  }
});

t.test("Workers' extensions real code calls: scheduler.wait, IdentityTransformStream, FixedLengthStream, Headers.getAll, subtle.timingSafeEqual", async (t) => {
  const res = await deployScript(
    server,
    'extensions',
    `export default { async fetch(request, env, ctx) {
      const path = new URL(request.url).pathname;
      if (path === '/identity') {
        const { readable, writable } = new IdentityTransformStream();
        const writer = writable.getWriter();
        ctx.waitUntil((async () => { await writer.write(new TextEncoder().encode('piped ')); await writer.write(new Uint8Array([111, 107])); await writer.close(); })());
        return new Response(readable);
      }
      if (path === '/fixed') {
        const { readable, writable } = new FixedLengthStream(5);
        const writer = writable.getWriter();
        writer.write(new TextEncoder().encode('hello')); writer.close();
        return new Response(readable);
      }
      const started = Date.now();
      await scheduler.wait(30);
      const waited = Date.now() - started;
      const aborted = await scheduler.wait(10_000, { signal: AbortSignal.timeout(10) }).then(() => 'resolved', (e) => e.name);
      const h = new Headers([['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
      let getAllOther = null;
      try { h.getAll('x'); } catch (e) { getAllOther = e.name; }
      const eq = crypto.subtle.timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]).buffer);
      const ne = crypto.subtle.timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]));
      let lengths = null;
      try { crypto.subtle.timingSafeEqual(new Uint8Array(1), new Uint8Array(2)); } catch (e) { lengths = e.name; }
      const tooShort = await new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.close(); } }).pipeThrough(new FixedLengthStream(5))).text().then(() => 'read', (e) => e.name);
      return Response.json({ waited: waited >= 25, aborted, getAll: h.getAll('Set-Cookie'), getAllOther, eq, ne, lengths, tooShort });
    } }`,
  );
  t.equal(res.status, 201, res.text);
  t.same((await send(server, 'extensions.localhost')).json(), { waited: true, aborted: 'TimeoutError', getAll: ['a=1', 'b=2'], getAllOther: 'TypeError', eq: true, ne: false, lengths: 'TypeError', tooShort: 'TypeError' });
  t.equal((await send(server, 'extensions.localhost', '/identity')).text, 'piped ok');
  t.equal((await send(server, 'extensions.localhost', '/fixed')).text, 'hello');
});

t.test('request.cf: the client address, so request.cf.country is undefined rather than a TypeError; init.cf is kept', async (t) => {
  const res = await deployScript(
    server,
    'geo',
    `export default { fetch(request) {
      const copy = new Request(request);
      const made = new Request('https://x.test/', { cf: { cacheTtl: 5 } });
      return Response.json({ ip: request.cf.clientIp, country: request.cf.country ?? null, copied: copy.cf.clientIp, made: made.cf, none: new Request('https://x.test/').cf ?? null });
    } }`,
  );
  t.equal(res.status, 201, res.text);
  t.same((await send(server, 'geo.localhost')).json(), { ip: '127.0.0.1', country: null, copied: '127.0.0.1', made: { cacheTtl: 5 }, none: null });
});

t.test('a response labelled Content-Encoding gzip or deflate is compressed on its way out, as on Workers; encodeBody manual is not', async (t) => {
  const res = await deployScript(
    server,
    'encodes',
    `export default { async fetch(request) {
      const kind = new URL(request.url).pathname.slice(1);
      const text = 'hello, compressed world. '.repeat(40);
      if (kind === 'manual' || kind === 'copied') {
        const gz = await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
        const manual = new Response(gz, { headers: { 'content-encoding': 'gzip' }, encodeBody: 'manual' });
        // As Hono's c.header() remakes a response: the copy keeps the encoding it was made with.
        return kind === 'copied' ? new Response(manual.body, manual) : manual;
      }
      if (kind === 'stream') return new Response(new Blob([text]).stream(), { headers: { 'content-encoding': 'gzip' } });
      return new Response(text, { headers: { 'content-encoding': kind, 'content-type': 'text/plain' } });
    } }`,
  );
  t.equal(res.status, 201, res.text);
  const text = 'hello, compressed world. '.repeat(40);
  const raw = async (path: string) => {
    const reply = await request(`${server.dataUrl}${path}`, { headers: { host: 'encodes.localhost' } });
    return { headers: reply.headers, bytes: Buffer.from(await reply.body.arrayBuffer()) };
  };
  for (const path of ['/gzip', '/stream', '/manual', '/copied']) {
    const got = await raw(path);
    t.equal(got.headers['content-encoding'], 'gzip', path);
    t.equal(gunzipSync(got.bytes).toString(), text, `${path}: gzip on the wire, decoding once gives the text`);
  }
  const deflated = await raw('/deflate');
  t.equal(inflateSync(deflated.bytes).toString(), text, 'deflate on the wire');
  const br = await raw('/br');
  t.same([br.headers['content-encoding'], br.bytes.toString()], [undefined, text], 'br cannot be made here: sent plain, without the label');
});

t.test('modules with non-ASCII names import each other (isolated-vm hands the resolver UTF-8 read as Latin-1)', async (t) => {
  const r = await deployMultipart(server, 'unicode-modules', { main_module: 'main.js' }, {
    'main.js': `import greeting from './ünï.js'; import { place } from './déjà/vu.js'; export default { fetch() { return new Response(greeting + ' ' + place) } }`,
    'ünï.js': `export default 'grüß'`,
    'déjà/vu.js': `export const place = 'café'`,
  });
  t.equal(r.status, 201, r.text);
  t.equal((await send(server, 'unicode-modules.localhost')).text, 'grüß café');
});

t.test("a route on another worker's own subdomain is refused; on its own, allowed", async (t) => {
  t.equal((await deployScript(server, 'subdomain-owner', `export default { fetch() { return new Response('owner') } }`)).status, 201);
  const taking = await deployMultipart(server, 'subdomain-taker', { main_module: 'main.js', routes: ['subdomain-owner.localhost/*'] }, { 'main.js': `export default { fetch() { return new Response('taker') } }` });
  t.equal(taking.status, 400);
  t.match(taking.json().error, { code: 'ISO_ERR_ROUTE_INVALID', message: /subdomain-owner\.localhost, worker subdomain-owner's own subdomain/ });
  const viaRoutes = await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern: '*subdomain-owner.localhost/api/*', worker: 'subdomain-owner-not' }) });
  t.equal(viaRoutes.status, 400, 'PUT /v1/routes refuses it too');
  t.equal((await send(server, 'subdomain-owner.localhost')).text, 'owner', 'the owner still answers there');
  const own = await deployMultipart(server, 'subdomain-owner', { main_module: 'main.js', routes: ['subdomain-owner.localhost/v2/*'] }, { 'main.js': `export default { fetch() { return new Response('owner v2') } }` });
  t.equal(own.status, 200, 'a worker may route paths of its own subdomain');
});

t.test('TextDecoder decodes legacy encodings through the host, in a request and at top level', async (t) => {
  const res = await deployScript(
    server,
    'legacy-text',
    `const atStart = new TextDecoder('windows-1251').decode(new Uint8Array([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]));
    export default { fetch() {
      return Response.json({ atStart, sjis: new TextDecoder('shift_jis').decode(new Uint8Array([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd])), kr: new TextDecoder('euc-kr').decode(new Uint8Array([0xbe, 0xc8, 0xb3, 0xe7])) });
    } }`,
  );
  t.equal(res.status, 201, res.text);
  t.same((await send(server, 'legacy-text.localhost')).json(), { atStart: 'Привет', sjis: 'こんにちは', kr: '안녕' });
});

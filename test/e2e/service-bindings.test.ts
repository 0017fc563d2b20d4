/**
 * Service bindings over real HTTP: a gateway worker's `env.AUTH.fetch()` reaches the bound worker, which
 * sees the URL, method, headers and body the gateway sent (not a route's host), and its answer comes back
 * whole or streamed, its redirects followed to it; each call is an invocation of its own with its own record; a chain that loops ends
 * at its depth bound; a binding to a worker that is not deployed answers 404; a client cannot forge the
 * call header; bad bindings are refused at deploy.
 */
import t from 'tap';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const AUTH = `export default { async fetch(request) {
  const url = new URL(request.url);
  if (url.pathname === '/stream') {
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    (async () => { for (let i = 0; i < 5; i++) { await writer.write(new TextEncoder().encode('chunk' + i + ';')); await scheduler.wait(5); } await writer.close(); })();
    return new Response(readable, { headers: { 'content-type': 'text/plain' } });
  }
  if (url.pathname === '/redirect') return Response.redirect('https://elsewhere.example/next', 302);
  return Response.json({
    url: request.url,
    method: request.method,
    host: request.headers.get('host'),
    token: request.headers.get('authorization'),
    forged: request.headers.get('x-isolane-service-call'),
    forwardedFor: request.headers.get('x-forwarded-for'),
    body: request.method === 'POST' ? await request.text() : null,
  }, { status: 201, headers: { 'x-from': 'auth' } });
} };`;

const GATEWAY = `export default { async fetch(request, env) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/check': {
      const answer = await env.AUTH.fetch('https://auth.internal/verify?user=7', { headers: { authorization: 'Bearer abc', 'x-isolane-service-call': 'not a token' } });
      return Response.json({ status: answer.status, from: answer.headers.get('x-from'), body: await answer.json() });
    }
    case '/post': {
      const answer = await env.AUTH.fetch(new Request('https://auth.internal/submit', { method: 'POST', body: 'payload ' + 'x'.repeat(100000) }));
      const body = await answer.json();
      return Response.json({ method: body.method, length: body.body.length });
    }
    case '/pass': return env.AUTH.fetch(request);
    case '/stream': return env.AUTH.fetch('https://auth.internal/stream');
    case '/redirect': {
      const followed = await env.AUTH.fetch('https://auth.internal/redirect', { headers: { authorization: 'Bearer abc' } });
      const manual = await env.AUTH.fetch('https://auth.internal/redirect', { redirect: 'manual' });
      const body = await followed.json();
      return Response.json({
        followed: { status: followed.status, redirected: followed.redirected, url: followed.url, seen: body.url, token: body.token },
        manual: { status: manual.status, location: manual.headers.get('location') },
      });
    }
    case '/missing': {
      const answer = await env.GONE.fetch('https://gone.internal/');
      return Response.json({ status: answer.status, body: await answer.json() });
    }
    case '/shape': return Response.json([String(env.AUTH), typeof env.AUTH.fetch, typeof env.AUTH.connect]);
    case '/fragment': return Response.json((await (await env.AUTH.fetch('https://auth.internal/verify#frag')).json()).url);
    case '/schemes': {
      const out = [];
      for (const url of ['ftp://auth.internal/', 'data:text/plain,hi', 'file:///etc/passwd']) {
        try { const r = await env.AUTH.fetch(url); out.push('answered ' + r.status); } catch (e) { out.push(e.name + ': ' + e.message); }
      }
      return Response.json(out);
    }
  }
  return new Response('not found', { status: 404 });
} };`;

// Calls itself through its own binding, one level deeper each time, until the data plane says no.
const LOOP = `export default { async fetch(request, env) {
  const depth = Number(new URL(request.url).searchParams.get('depth') ?? 0);
  const answer = await env.SELF.fetch('https://loop.internal/?depth=' + (depth + 1));
  if (answer.status !== 200) return Response.json({ depth, status: answer.status, error: (await answer.json()).error?.code });
  return answer;
} };`;

// Each call fans out 8 more, three levels down: 584 calls without a bound on the tree.
const FAN = `export default { async fetch(request, env) {
  const depth = Number(new URL(request.url).searchParams.get('d') ?? 0);
  if (depth === 3) return Response.json({ calls: 0, refused: 0 });
  const answers = await Promise.all(Array.from({ length: 8 }, () => env.SELF.fetch('https://fan.internal/?d=' + (depth + 1))));
  let calls = 0, refused = 0;
  for (const a of answers) {
    if (a.status === 200) { const b = await a.json(); calls += 1 + b.calls; refused += b.refused; }
    else if (a.status === 508 && (await a.json()).error.code === 'ISO_ERR_SERVICE_CALLS') refused++;
  }
  return Response.json({ calls, refused });
} };`;

t.before(async () => {
  const deploys = [
    ['auth', AUTH, []],
    ['gateway', GATEWAY, [{ type: 'service', name: 'AUTH', service: 'auth' }, { type: 'service', name: 'GONE', service: 'not-deployed' }]],
    ['loop', LOOP, [{ type: 'service', name: 'SELF', service: 'loop' }]],
    ['fan', FAN, [{ type: 'service', name: 'SELF', service: 'fan' }]],
  ] as const;
  for (const [name, source, bindings] of deploys) {
    const res = await deployMultipart(server, name, { main_module: 'main.js', bindings }, { 'main.js': source });
    if (res.status !== 201) throw new Error(res.text);
  }
});

t.test("the bound worker gets the caller's request, and its answer comes back", async (t) => {
  const res = await send(server, 'gateway.localhost', '/check');
  t.equal(res.status, 200, res.text);
  t.same(res.json(), {
    status: 201,
    from: 'auth',
    body: { url: 'https://auth.internal/verify?user=7', method: 'GET', host: 'auth.internal', token: 'Bearer abc', forged: null, forwardedFor: null, body: null },
  }, "the URL the caller fetched, its headers; the caller's own copy of the call header does not pass");
  const records = await Promise.all(['gateway', 'auth'].map((worker) => server.record((line) => line.type === 'invocation' && line.worker === worker)));
  t.same(records.map((r) => r.outcome), ['ok', 'ok'], 'each side is an invocation with its own record');
});

t.test('bodies cross both ways: a 100 KB POST, a streamed answer, a request passed on', async (t) => {
  t.same((await send(server, 'gateway.localhost', '/post')).json(), { method: 'POST', length: 100008 });
  const streamed = await send(server, 'gateway.localhost', '/stream');
  t.equal(streamed.text, 'chunk0;chunk1;chunk2;chunk3;chunk4;');
  const passed = await send(server, 'gateway.localhost', '/pass?q=1', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(passed.status, 201);
  t.match(passed.json(), { url: 'http://gateway.localhost/pass?q=1', method: 'POST', body: 'hello', host: 'gateway.localhost' }, 'an incoming request passed on keeps its URL');
});

t.test("a redirect the service answers is followed to the bound worker, as workerd's Fetcher follows it; manual hands it back", async (t) => {
  t.same((await send(server, 'gateway.localhost', '/redirect')).json(), {
    // The next hop is the bound worker again, with the new URL; credentials stay on the origin they were sent to.
    followed: { status: 201, redirected: true, url: 'https://elsewhere.example/next', seen: 'https://elsewhere.example/next', token: null },
    manual: { status: 302, location: 'https://elsewhere.example/next' },
  });
});

t.test('a binding to a worker that is not deployed answers 404; a loop ends at the depth bound', async (t) => {
  const missing = (await send(server, 'gateway.localhost', '/missing')).json();
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'ISO_ERR_WORKER_NOT_FOUND');
  const loop = await send(server, 'loop.localhost', '/');
  t.equal(loop.status, 200, loop.text);
  t.same(loop.json(), { depth: 16, status: 508, error: 'ISO_ERR_SERVICE_DEPTH' }, 'the 16th call in the chain is refused, and each level answers');
  t.same((await send(server, 'gateway.localhost', '/shape')).json(), ['[object Fetcher]', 'function', 'function']);
});

t.test("a request's whole tree of calls is bounded, not only its depth", async (t) => {
  const res = await send(server, 'fan.localhost', '/');
  t.equal(res.status, 200, res.text);
  const { calls, refused } = res.json();
  t.ok(calls <= 2 * 64, `${calls} calls answered: at most 64 in each of the two serving processes, not 584`);
  t.ok(refused > 0, `${refused} refused with ISO_ERR_SERVICE_CALLS`);
});

t.test('only http(s) URLs reach a service; a fragment does not; the caller\'s forwarding headers pass on as they are', async (t) => {
  t.same((await send(server, 'gateway.localhost', '/schemes')).json(), [
    'TypeError: Fetch API cannot load: ftp://auth.internal/',
    'TypeError: Fetch API cannot load: data:text/plain,hi',
    'TypeError: Fetch API cannot load: file:///etc/passwd',
  ]);
  t.equal((await send(server, 'gateway.localhost', '/fragment')).json(), 'https://auth.internal/verify');
  const passed = await send(server, 'gateway.localhost', '/pass', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.equal(passed.json().forwardedFor, '203.0.113.9, 127.0.0.1', "the client's address once, as the gateway saw it: the loopback hop adds nothing");
});

t.test('a client cannot forge a service call: the header is ignored and never reaches a worker', async (t) => {
  const forged = await send(server, 'gateway.localhost', '/check', { headers: { 'x-isolane-service-call': '0000 1 auth https://auth.internal/verify' } });
  t.equal(forged.status, 200, 'routed by its Host, to the gateway');
  t.equal(forged.json().body.forged, null);
  const direct = await send(server, 'auth.localhost', '/', { headers: { 'x-isolane-service-call': 'guess 1 gateway https://x/' } });
  t.equal(direct.json().forged, null, 'the auth worker does not see it either');
  t.equal(direct.json().host, 'auth.localhost');
});

t.test('bad service bindings are refused at deploy', async (t) => {
  for (const binding of [{ type: 'service', name: 'X' }, { type: 'service', name: 'X', service: 'Not_A_Name' }, { type: 'service', name: 'X', service: 'auth', entrypoint: 'Admin' }]) {
    const res = await deployMultipart(server, 'bad-binding', { main_module: 'main.js', bindings: [binding] }, { 'main.js': AUTH });
    t.equal(res.status, 400, JSON.stringify(binding));
    t.equal(res.json().error.code, 'ISO_ERR_DEPLOY_BINDING');
  }
});

/**
 * fetch() from a worker: made by the host (undici) through the egress policy, with per-invocation
 * limits; waiting is wall time, not CPU. The upstream is a node:http server in this test process.
 */
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { deployMultipart, deployScript, send, startServer } from '../helpers/server.ts';

let openTrickles = 0;
let maxTrickles = 0;
const upstream = createServer((req, res) => {
  // Drops the connection at the first bytes of a request body: an upload that fails midway.
  if (req.url === '/reset') return void req.once('data', () => req.socket.destroy());
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url!, 'http://upstream');
    if (url.pathname === '/json') return void res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' }).end(JSON.stringify({ hello: 'from upstream' }));
    if (url.pathname === '/redirect') return void res.writeHead(302, { location: '/json' }).end();
    if (url.pathname === '/loop') return void res.writeHead(302, { location: `/loop?n=${Number(url.searchParams.get('n')) + 1}` }).end();
    if (url.pathname === '/seen-headers') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, headers: req.headers }));
    if (url.pathname === '/gzip') {
      const text = url.searchParams.get('text') ?? 'hello, gzip';
      return void res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(text.repeat(Number(url.searchParams.get('times') ?? 1))));
    }
    if (url.pathname === '/trickle') {
      // Headers at once, then the body a byte a second: an open body holds its connection.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      openTrickles++;
      const timer = setInterval(() => res.write('.'), 1000);
      res.on('close', () => {
        clearInterval(timer);
        openTrickles--;
      });
      maxTrickles = Math.max(maxTrickles, openTrickles);
      return;
    }
    if (url.pathname === '/slow') return void setTimeout(() => res.end('slow'), 300);
    if (url.pathname === '/big') {
      // 40 MiB in 1 MiB chunks, no Content-Length.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const more = () => {
        while (sent < 40) {
          sent++;
          if (!res.write(Buffer.alloc(1024 * 1024, sent))) return void res.once('drain', more);
        }
        res.end();
      };
      return void more();
    }
    if (url.pathname === '/drip') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`drop${n};`);
        if (++n === 4) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      return;
    }
    if (url.pathname === '/hang') return; // never answers
    if (url.pathname === '/count') {
      // Answers how many bytes came and in how many chunks, once the request body ends.
      return void res.end(JSON.stringify({ bytes: chunks.reduce((n, c) => n + c.length, 0), chunks: chunks.length }));
    }
    if (url.pathname === '/echo') return void res.end(`${req.method} ${req.headers['x-test']} ${Buffer.concat(chunks).toString()}`);
    // Bytes given in hex: UTF-8 text or not, a byte order mark, the text "stream".
    if (url.pathname === '/bytes') return void res.end(Buffer.from(url.searchParams.get('hex')!, 'hex'));
    res.writeHead(404).end('nope');
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => upstream.close());
const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const server = await startServer(t, { args: ['--fetch-allow', '127.0.0.1'] });

t.test('a worker fetches JSON, follows redirects, posts a body', async (t) => {
  const res = await deployScript(server, 'caller', `export default { async fetch(request) {
    const which = new URL(request.url).pathname;
    if (which === '/json') { const r = await fetch('${origin}/json#part'); return Response.json({ status: r.status, header: r.headers.get('x-upstream'), body: await r.json(), url: r.url }) }
    if (which === '/redirect') { const r = await fetch('${origin}/redirect'); return Response.json({ status: r.status, redirected: r.redirected, url: r.url }) }
    if (which === '/echo') { const r = await fetch('${origin}/echo', { method: 'POST', body: 'payload', headers: { 'x-test': 'h1' } }); return new Response(await r.text()) }
    if (which === '/slow') { const r = await fetch('${origin}/slow'); return new Response(await r.text()) }
    return new Response('?', { status: 400 }) } }`);
  t.equal(res.status, 201, res.text);
  t.same((await send(server, 'caller.localhost', '/json')).json(), { status: 200, header: 'yes', body: { hello: 'from upstream' }, url: `${origin}/json` }, "the response's URL has no fragment");
  t.same((await send(server, 'caller.localhost', '/redirect')).json(), { status: 200, redirected: true, url: `${origin}/json` });
  t.equal((await send(server, 'caller.localhost', '/echo')).text, 'POST h1 payload');

  const slow = await send(server, 'caller.localhost', '/slow');
  t.equal(slow.text, 'slow');
  const last = await server.record((l) => l.type === 'invocation' && l.worker === 'caller' && (l.wallMs as number) >= 290);
  t.ok((last.cpuUs as number) < 10_000, `waiting 300 ms on fetch charged ${last.cpuUs} µs of CPU`);
});

t.test('a fetched body keeps its exact bytes, whether it reaches the worker as text (UTF-8) or as bytes', async (t) => {
  const res = await deployScript(server, 'bytes', `export default { async fetch(request) {
    const hex = new URL(request.url).searchParams.get('hex');
    const r = await fetch('${origin}/bytes?hex=' + hex);
    const copy = r.clone();
    const bytes = new Uint8Array(await r.arrayBuffer());
    return Response.json({ bytes: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(''), text: await copy.text() }) } }`);
  t.equal(res.status, 201, res.text);
  const cases: [string, string][] = [
    ['7b2261223a22c3a9f09f9880227d', '{"a":"é😀"}'],
    ['efbbbf61', 'a'],
    ['ff00e282', '\ufffd\u0000\ufffd'],
    [Buffer.from('stream').toString('hex'), 'stream'],
  ];
  for (const [hex, text] of cases) {
    t.same((await send(server, 'bytes.localhost', `/?hex=${hex}`)).json(), { bytes: hex, text }, hex);
  }
});

t.test('at most 50 subrequests per invocation, 6 at once', async (t) => {
  // 51 round trips cost more than the default 50 ms of CPU in a fresh isolate: this test is about counts.
  await deployMultipart(server, 'greedy', { main_module: 'main.js', limits: { cpu_ms: 2000 } }, { 'main.js': `export default { async fetch(request) {
    if (new URL(request.url).pathname === '/parallel') {
      const started = Date.now();
      await Promise.all(Array.from({ length: 12 }, () => fetch('${origin}/slow').then((r) => r.text())));
      return new Response(String(Date.now() - started));
    }
    let ok = 0;
    for (let i = 0; i < 51; i++) { try { await fetch('${origin}/json').then((r) => r.text()); ok++ } catch (e) { return new Response(ok + ' then ' + e.name + ': ' + e.message) } }
    return new Response('all ' + ok) } }` });
  const reply = await send(server, 'greedy.localhost');
  t.match(reply.text, /^50 then TypeError: Too many subrequests/);
  const elapsed = Number((await send(server, 'greedy.localhost', '/parallel')).text);
  t.ok(elapsed >= 550, `12 fetches of 300 ms took ${elapsed} ms: two waves of 6`);
});

t.test('without an allowlist, the host network is out of reach', async (t) => {
  const closed = await startServer(t);
  await deployScript(closed, 'prober', `export default { async fetch() {
    const results = [];
    for (const url of ['${origin}/json', 'http://localhost:${(upstream.address() as AddressInfo).port}/json', 'http://169.254.169.254/latest/meta-data/']) {
      try { await fetch(url); results.push('reached ' + url) } catch (e) { results.push(e.name + ': ' + e.message) }
    }
    return Response.json(results) } }`);
  const results = (await send(closed, 'prober.localhost')).json() as string[];
  t.equal(results.length, 3);
  for (const line of results) t.match(line, /^TypeError: fetch failed: fetch to .* is not allowed/, line);
});

t.test("a worker's fetch_allow opens exceptions for that worker only", async (t) => {
  const closed = await startServer(t);
  const source = `export default { async fetch() {
    try { const r = await fetch('${origin}/json'); return new Response('reached ' + r.status) } catch (e) { return new Response(e.name + ': ' + e.message) } } }`;
  const allowed = await deployMultipart(closed, 'allowed', { main_module: 'main.js', fetch_allow: ['127.0.0.1'] }, { 'main.js': source });
  t.equal(allowed.status, 201, allowed.text);
  await deployMultipart(closed, 'other', { main_module: 'main.js' }, { 'main.js': source });
  t.equal((await send(closed, 'allowed.localhost')).text, 'reached 200');
  t.match((await send(closed, 'other.localhost')).text, /^TypeError: fetch failed: fetch to 127\.0\.0\.1 is not allowed: it is on the host/, 'the same code in another worker is still refused');
  // With a port, the exception is that port only: not the server's own, nor another service's.
  const port = (upstream.address() as AddressInfo).port;
  await deployMultipart(closed, 'on-port', { main_module: 'main.js', fetch_allow: [`127.0.0.1:${port}`] }, { 'main.js': source });
  await deployMultipart(closed, 'other-port', { main_module: 'main.js', fetch_allow: [`127.0.0.1:${port === 1 ? 2 : port - 1}`] }, { 'main.js': source });
  t.equal((await send(closed, 'on-port.localhost')).text, 'reached 200');
  t.match((await send(closed, 'other-port.localhost')).text, /^TypeError: fetch failed: fetch to 127\.0\.0\.1 is not allowed/);
  for (const bad of ['not a list', ['http://127.0.0.1/'], [42], ['a b'], ['127.0.0.1:0'], ['127.0.0.1:65536'], ['[::1]:0'], ['300.1.1.1']]) {
    const reply = await deployMultipart(closed, 'bad-allow', { main_module: 'main.js', fetch_allow: bad }, { 'main.js': source });
    t.equal(reply.status, 400, JSON.stringify(bad));
    t.equal(reply.json().error.code, 'ISO_ERR_DEPLOY_METADATA');
    t.match(reply.json().error.message, /fetch_allow/);
  }
});

t.test('fetched bodies stream: a proxied 40 MiB download passes through a 16 MB worker, a slow upstream drips through', async (t) => {
  const reply = await deployMultipart(server, 'proxy', { main_module: 'main.js', limits: { memory_mb: 16, cpu_ms: 5000 } }, { 'main.js': `export default { async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/count') {
      let bytes = 0;
      for await (const chunk of (await fetch('${origin}/big')).body) bytes += chunk.byteLength;
      return new Response(String(bytes));
    }
    return fetch('${origin}' + path);
  } }` });
  t.equal(reply.status, 201, reply.text);
  const res = await request(`${server.dataUrl}/big`, { headers: { host: 'proxy.localhost' } });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  t.equal(bytes, 40 * 1024 * 1024, 'the whole download reached the client');
  const record = await server.record((l) => l.type === 'invocation' && l.worker === 'proxy');
  t.equal(record.outcome, 'ok');
  t.ok((record.peakMemoryBytes as number) < 16 * 1024 * 1024, `peak isolate memory ${((record.peakMemoryBytes as number) / 1048576).toFixed(1)} MiB`);
  t.equal((await send(server, 'proxy.localhost', '/count')).text, String(40 * 1024 * 1024), 'read by the worker chunk by chunk');

  const started = performance.now();
  const drip = await request(`${server.dataUrl}/drip`, { headers: { host: 'proxy.localhost' } });
  const arrivals: number[] = [];
  let text = '';
  for await (const chunk of drip.body) {
    text += String(chunk);
    arrivals.push(performance.now() - started);
  }
  t.equal(text, 'drop0;drop1;drop2;drop3;');
  t.ok(arrivals.length >= 3, `${arrivals.length} reads: the drops came through as they were sent`);
  // Sent 100 ms apart (300 ms from the first to the last): a client under a full suite's load read the
  // first one late once (spread under 200 ms). Buffered whole, they would come in one read, at once.
  t.ok(arrivals.at(-1)! - arrivals[0]! > 100, `spread over the upstream's 300 ms (${Math.round(arrivals.at(-1)! - arrivals[0]!)} ms)`);
});

t.test('stream request bodies go upstream as they are produced: a 24 MiB upload proxied through a 16 MB worker', async (t) => {
  const reply = await deployMultipart(server, 'uploader', { main_module: 'main.js', limits: { memory_mb: 16, cpu_ms: 5000 } }, { 'main.js': `export default { async fetch(request) {
    if (new URL(request.url).pathname === '/generated') {
      let n = 0;
      const body = new ReadableStream({ pull(c) { if (n++ < 3) c.enqueue(new TextEncoder().encode('part' + n + ';')); else c.close(); } });
      return fetch('${origin}/echo', { method: 'POST', body, duplex: 'half', headers: { 'x-test': 'gen' } });
    }
    return fetch('${origin}/count', { method: 'POST', body: request.body, duplex: 'half' });
  } }` });
  t.equal(reply.status, 201, reply.text);
  const size = 24 * 1024 * 1024;
  const res = await send(server, 'uploader.localhost', '/', { method: 'POST', body: new Uint8Array(size) });
  t.equal(res.status, 200, res.text);
  t.equal(res.json().bytes, size, 'every byte reached the upstream');
  const record = await server.record((l) => l.type === 'invocation' && l.worker === 'uploader');
  t.ok((record.peakMemoryBytes as number) < 16 * 1024 * 1024, `peak isolate memory ${((record.peakMemoryBytes as number) / 1048576).toFixed(1)} MiB`);
  t.equal((await send(server, 'uploader.localhost', '/generated')).text, 'POST gen part1;part2;part3;', 'a generated stream body');
});

t.test('a stream request body that errors rejects the fetch with a TypeError; the serving process lives on', async (t) => {
  const reply = await deployScript(server, 'broken-upload', `export default { async fetch(request) {
    const delay = Number(new URL(request.url).searchParams.get('delay'));
    let n = 0;
    const body = new ReadableStream({ async pull(c) {
      if (n++ < 2) return c.enqueue(new Uint8Array(10));
      if (delay) await new Promise((r) => setTimeout(r, delay));
      c.error(new Error('source broke'));
    } });
    try { const r = await fetch('${origin}/echo', { method: 'PUT', body, duplex: 'half' }); return new Response('answered ' + r.status) } catch (e) { return new Response('caught ' + e.name) }
  } }`);
  t.equal(reply.status, 201, reply.text);
  const exits = server.logs.filter((l) => l.type === 'serving-exit').length;
  for (const delay of [0, 200]) t.equal((await send(server, 'broken-upload.localhost', `/?delay=${delay}`)).text, 'caught TypeError', `the source errors after ${delay} ms`);
  t.equal(server.logs.filter((l) => l.type === 'serving-exit').length, exits, 'no serving process ended');
  t.equal((await send(server, 'broken-upload.localhost', '/?delay=0')).text, 'caught TypeError', 'and the same process answers again');
});

t.test('a stream body of known length goes upstream with its Content-Length, not chunked', async (t) => {
  const reply = await deployScript(server, 'length-keeper', `export default { async fetch(request) {
    const seen = async (init) => { const h = (await (await fetch('${origin}/seen-headers', { method: 'PUT', duplex: 'half', ...init })).json()).headers; return [h['content-length'] ?? null, h['transfer-encoding'] ?? null] };
    const fixed = new FixedLengthStream(1000);
    const writer = fixed.writable.getWriter();
    writer.write(new Uint8Array(1000)).then(() => writer.close());
    // Made as its fetch starts, and still open then (one already ended, undici measures itself).
    const slow = () => new ReadableStream({ async pull(c) { await scheduler.wait(20); c.enqueue(new Uint8Array(10)); c.close() } });
    return Response.json({
      passedOn: await seen({ body: request.body }),
      fixed: await seen({ body: fixed.readable }),
      declared: await seen({ body: slow(), headers: { 'content-length': '10' } }),
      unknown: await seen({ body: slow() }),
    });
  } }`);
  t.equal(reply.status, 201, reply.text);
  const res = await send(server, 'length-keeper.localhost', '/', { method: 'POST', body: new Uint8Array(1024 * 1024) });
  t.same(res.json(), {
    passedOn: [String(1024 * 1024), null],
    fixed: ['1000', null],
    declared: ['10', null],
    unknown: [null, 'chunked'],
  }, "the client's body passed on, a FixedLengthStream and a declared length keep it; a stream of unknown length is chunked");
});

t.test("an upload that fails midway, or is aborted, cancels the worker's body stream", async (t) => {
  const reply = await deployScript(server, 'upload-fails', `export default { async fetch(request) {
    const abort = new URL(request.url).searchParams.has('abort');
    let cancelled = null;
    const body = new ReadableStream({
      async pull(c) { await scheduler.wait(10); c.enqueue(new Uint8Array(1000)); },
      cancel(reason) { cancelled = reason?.name ?? String(reason); },
    });
    const controller = new AbortController();
    if (abort) setTimeout(() => controller.abort(), 100);
    const outcome = await fetch('${origin}' + (abort ? '/slow' : '/reset'), { method: 'POST', body, duplex: 'half', signal: controller.signal }).then(() => 'answered', (e) => e.name);
    await scheduler.wait(50);
    return Response.json({ outcome, cancelled, locked: body.locked });
  } }`);
  t.equal(reply.status, 201, reply.text);
  t.same((await send(server, 'upload-fails.localhost')).json(), { outcome: 'TypeError', cancelled: 'TypeError', locked: true }, "the upstream dropped it: the source is cancelled with the fetch's error");
  t.same((await send(server, 'upload-fails.localhost', '/?abort')).json(), { outcome: 'AbortError', cancelled: 'AbortError', locked: true }, 'aborted: with the reason');
});

t.test('an AbortSignal that fires while the request is in flight rejects the fetch with its reason', async (t) => {
  await deployScript(server, 'aborter', `export default { async fetch() {
    const started = Date.now();
    try {
      await fetch('${origin}/slow', { signal: AbortSignal.timeout(50) });
      return new Response('not aborted');
    } catch (e) {
      const afterMs = Date.now() - started;
      const timed = await fetch('${origin}/slow', { signal: AbortSignal.timeout(1000) }).then((r) => r.text());
      return Response.json({ name: e.name, afterMs, thenFine: timed });
    } } }`);
  const reply = await send(server, 'aborter.localhost');
  const body = reply.json();
  t.equal(body.name, 'TimeoutError', 'rejected with the signal reason');
  t.ok(body.afterMs >= 45 && body.afterMs < 250, `rejected ${body.afterMs} ms in: at the 50 ms timeout, not at the 300 ms answer`);
  t.equal(body.thenFine, 'slow', 'a later fetch with a signal that does not fire answers');
});

t.test('a signal that aborts while the body is read errors the body with its reason, as the Fetch standard says', async (t) => {
  await deployScript(server, 'body-aborter', `export default { async fetch(request) {
    const custom = new URL(request.url).searchParams.has('custom');
    const controller = new AbortController();
    const response = await fetch('${origin}/trickle', { signal: controller.signal });
    const reader = response.body.getReader();
    await reader.read();
    setTimeout(() => controller.abort(custom ? new RangeError('mine') : undefined), 50);
    try { for (;;) if ((await reader.read()).done) return new Response('ended') } catch (e) { return new Response(e.name + ': ' + e.message) }
  } }`);
  t.equal((await send(server, 'body-aborter.localhost')).text, 'AbortError: This operation was aborted', 'an AbortError, not the TypeError of a body cut short');
  t.equal((await send(server, 'body-aborter.localhost', '/?custom')).text, 'RangeError: mine', "or the signal's own reason");
});

t.test('an aborted fetch is stopped on the host too: it frees its place among the 6 at once', async (t) => {
  await deployMultipart(server, 'aborter-slots', { main_module: 'main.js', limits: { cpu_ms: 1000 } }, { 'main.js': `export default { async fetch() {
    const hanging = Array.from({ length: 6 }, () => fetch('${origin}/hang', { signal: AbortSignal.timeout(50) }).catch((e) => e.name));
    const names = await Promise.all(hanging);
    const started = Date.now();
    const body = await fetch('${origin}/json').then((r) => r.json());
    return Response.json({ names, next: body.hello, waitedMs: Date.now() - started });
  } }` });
  const reply = await send(server, 'aborter-slots.localhost');
  const body = reply.json();
  t.same(body.names, Array(6).fill('TimeoutError'));
  t.equal(body.next, 'from upstream');
  t.ok(body.waitedMs < 1000, `the 7th fetch did not wait for the 6 aborted ones (${body.waitedMs} ms)`);
});

t.test('fetch as on Workers: redirect modes, no browser headers, decoded bodies, hops counted, open bodies hold their connection', async (t) => {
  const source = `export default { async fetch(request) {
    const path = new URL(request.url).pathname;
    const O = ${JSON.stringify(origin)};
    if (path === '/modes') {
      const out = {};
      for (const mode of ['follow', 'manual', 'error']) {
        try { const r = await fetch(O + '/redirect', { redirect: mode }); out[mode] = [r.status, r.headers.get('location'), r.redirected, r.url]; }
        catch (e) { out[mode] = e.name + ': ' + e.message; }
      }
      out.incoming = request.redirect;
      return Response.json(out);
    }
    if (path === '/pass') return fetch(new Request(O + '/redirect', request));
    if (path === '/headers') return fetch(O + '/seen-headers', { method: 'patch', body: 'x', headers: { host: 'worker.example', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', expect: '100-continue', 'x-kept': '1' } });
    if (path === '/gzip') { const r = await fetch(O + '/gzip?times=3'); return Response.json([await r.text(), r.headers.get('content-encoding'), r.headers.get('content-length')]); }
    if (path === '/gzip-pass') return fetch(O + '/gzip');
    if (path === '/loop') {
      const out = [];
      for (let i = 0; i < 3; i++) { try { await fetch(O + '/loop?n=0'); out.push('no error'); } catch (e) { out.push(e.message); } }
      return Response.json(out);
    }
    if (path === '/trickles') {
      const responses = await Promise.all(Array.from({ length: 12 }, () => fetch(O + '/trickle').then((r) => r.status)));
      return Response.json(responses);
    }
    return new Response('?', { status: 404 });
  } };`;
  t.equal((await deployScript(server, 'fetches', source)).status, 201);
  const modes = (await send(server, 'fetches.localhost', '/modes')).json();
  t.same(modes.follow, [200, null, true, `${origin}/json`], 'follow: the target');
  t.same(modes.manual, [302, '/json', false, `${origin}/redirect`], 'manual: the 302 itself');
  t.match(modes.error, /^TypeError: .*redirect mode is "error"/, 'error: a TypeError');
  t.equal(modes.incoming, 'manual', "an incoming request's mode is manual, as on workerd");
  const passed = await send(server, 'fetches.localhost', '/pass');
  t.same([passed.status, passed.headers.location], [302, '/json'], 'a request passed on hands the redirect back to the client');
  const seen = (await send(server, 'fetches.localhost', '/headers')).json();
  t.equal(seen.method, 'PATCH');
  t.same(Object.keys(seen.headers).filter((name) => !['host', 'content-length', 'content-type', 'connection', 'x-kept'].includes(name)), [], `no headers the worker did not set (${Object.keys(seen.headers).join(', ')})`);
  t.equal(seen.headers.host, new URL(origin).host, "Host is the URL's, not one the worker set");
  t.equal(seen.headers['x-kept'], '1');
  t.same((await send(server, 'fetches.localhost', '/gzip')).json(), ['hello, gziphello, gziphello, gzip', null, null], 'read decoded, without its encoding headers');
  const passedGzip = await send(server, 'fetches.localhost', '/gzip-pass');
  t.same([passedGzip.text, passedGzip.headers['content-encoding']], ['hello, gzip', undefined], 'passed on: valid, not labelled gzip');
  const loops = (await send(server, 'fetches.localhost', '/loop')).json() as string[];
  t.match(loops[0], /more than 20 redirects/);
  t.match(loops[2], /Too many subrequests/, 'each redirect hop is a subrequest: the third loop of 21 passes 50');
  maxTrickles = 0;
  const started = performance.now();
  const trickled = await send(server, 'fetches.localhost', '/trickles');
  t.same(trickled.json(), Array(12).fill(200), 'all 12 answered: a fetch waiting for a place cancels the oldest unread body, as Workers do');
  t.ok(performance.now() - started < 5000, `without waiting for the bodies (${(performance.now() - started).toFixed(0)} ms)`);
  t.ok(maxTrickles <= 6, `at most 6 upstream connections at once (${maxTrickles})`);
});

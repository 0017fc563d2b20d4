/**
 * Bad input on the data plane: every refusal is a 4xx with a JSON body naming the problem, whatever part
 * of the request is wrong, and the server keeps serving.
 */
import { connect } from 'node:net';
import t from 'tap';
import { admin, deployMultipart, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--headers-timeout-ms', '1000', '--send-stall-ms', '500'] });
await deployScript(server, 'fine', `export default { fetch(request) { return new Response('fine ' + new URL(request.url).pathname.length) } }`);

/** Sends `raw` bytes on a fresh connection and returns everything the server answers until it closes. */
function exchange(raw: string | Buffer, waitMs = 3000): Promise<string> {
  const { port } = new URL(server.dataUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.write(raw);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

function statusAndCode(answer: string): [number, string | undefined] {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  let code: string | undefined;
  try {
    code = JSON.parse(body).error?.code;
  } catch {}
  return [status, code];
}

t.test('malformed requests: 400 with a JSON body', async (t) => {
  for (const raw of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nhost: fine.localhost\r\nbad header line\r\n\r\n', 'GET / HTTP/9.9\r\nhost: fine.localhost\r\n\r\n', 'GET / HTTP/1.1\r\nhost: fine.localhost\r\ncontent-length: x\r\n\r\n']) {
    const [status, code] = statusAndCode(await exchange(raw));
    t.equal(status, 400, JSON.stringify(raw));
    t.equal(code, 'ISO_ERR_HTTP_BAD_REQUEST');
  }
});

t.test('headers over 16 KiB, or too many small ones: 431', async (t) => {
  const [status, code] = statusAndCode(await exchange(`GET / HTTP/1.1\r\nhost: fine.localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`));
  t.equal(status, 431);
  t.equal(code, 'ISO_ERR_HTTP_HEADERS_TOO_LARGE');
  // 2,000 fields of 5 bytes: 10 KB, but more fields than Node's parser takes.
  const many = await exchange(`GET / HTTP/1.1\r\nhost: fine.localhost\r\n${'a:1\r\n'.repeat(2000)}\r\n`);
  t.same(statusAndCode(many), [431, 'ISO_ERR_HTTP_HEADERS_TOO_LARGE']);
  t.match(many, /too many fields/, 'the message names both causes');
});

t.test('a client too slow to send its headers (slowloris): 408, then the connection closes', async (t) => {
  const started = performance.now();
  const { port } = new URL(server.dataUrl);
  const answer = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nhost: fine.localhost\r\n');
    // One header byte every 200 ms, forever: never the blank line.
    const drip = setInterval(() => socket.writable && socket.write('x'), 200);
    socket.on('close', () => clearInterval(drip));
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
  const elapsed = performance.now() - started;
  const [status, code] = statusAndCode(answer);
  t.equal(status, 408);
  t.equal(code, 'ISO_ERR_HTTP_TIMEOUT');
  t.ok(elapsed < 5000, `closed after ${elapsed.toFixed(0)} ms (headers timeout 1 s)`);
});

t.test('Host: missing, malformed, unknown; absurd URLs; deleted workers', async (t) => {
  const [noHost, noHostCode] = statusAndCode(await exchange('GET / HTTP/1.1\r\n\r\n'));
  t.equal(noHost, 400);
  t.equal(noHostCode, 'ISO_ERR_HTTP_HOST_MISSING');
  for (const host of ['not a host', '[::1', 'ünïcode.example', 'a'.repeat(300)]) {
    const [status, code] = statusAndCode(await exchange(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    t.equal(status, 400, `${JSON.stringify(host.slice(0, 20))}: ${status}`);
    t.ok(code === 'ISO_ERR_HTTP_HOST_INVALID' || code === 'ISO_ERR_HTTP_BAD_REQUEST', `with a JSON code (${code})`);
  }
  const long = await send(server, 'fine.localhost', `/${'p'.repeat(8000)}`);
  t.equal(long.text, 'fine 8001', 'an 8 KB path is served');
  for (const target of ['/%00%ff%', '/..%2f..%2fetc/passwd', '//double//slashes', '/?' + '&a=1'.repeat(1000)]) {
    const answer = await exchange(`GET ${target} HTTP/1.1\r\nhost: fine.localhost\r\nconnection: close\r\n\r\n`);
    t.match(answer, /^HTTP\/1\.1 200 /, `${target.slice(0, 30)} is handed to the worker as it is`);
  }
  const [star, starCode] = statusAndCode(await exchange('OPTIONS * HTTP/1.1\r\nhost: fine.localhost\r\nconnection: close\r\n\r\n'));
  t.equal(star, 400, 'OPTIONS * answered 400');
  t.equal(starCode, 'ISO_ERR_HTTP_TARGET_INVALID');
  await admin(server, 'DELETE', '/v1/workers/fine');
  const gone = await send(server, 'fine.localhost');
  t.equal(gone.status, 404);
  t.equal(gone.json().error.code, 'ISO_ERR_ROUTE_NOT_FOUND');
});

t.test('routing and the worker see one URL: dot segments, Host tricks, absolute form, one Host only', async (t) => {
  const echo = `export default { fetch(request) { return Response.json({ worker: WHO, url: request.url, headers: [...request.headers] }) } }`;
  t.equal((await deployScript(server, 'gate', `const WHO = 'gate'; ${echo}`)).status, 201);
  t.equal((await deployScript(server, 'site', `const WHO = 'site'; ${echo}`)).status, 201);
  t.equal((await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern: 'site.test/admin/*', worker: 'gate' }), headers: { 'content-type': 'application/json' } })).status < 300, true);
  t.equal((await admin(server, 'PUT', '/v1/routes', { body: JSON.stringify({ pattern: 'site.test/*', worker: 'site' }), headers: { 'content-type': 'application/json' } })).status < 300, true);
  const get = async (target: string, host = 'site.test', extra = '') => {
    const answer = await exchange(`GET ${target} HTTP/1.1\r\nhost: ${host}\r\n${extra}connection: close\r\n\r\n`);
    const [status, code] = statusAndCode(answer);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    return { status, code, json: status === 200 ? (JSON.parse(body) as { worker: string; url: string; headers: [string, string][] }) : null };
  };
  // Each path reaches the worker its resolved path routes to, and that worker sees the resolved path.
  for (const [target, worker, url] of [
    ['/x/../admin/panel', 'gate', 'http://site.test/admin/panel'],
    ['/x/%2e%2E/admin/panel', 'gate', 'http://site.test/admin/panel'],
    ['/./admin/panel', 'gate', 'http://site.test/admin/panel'],
    ['/x\\..\\admin\\panel', 'gate', 'http://site.test/admin/panel'],
    ['/admin/../public', 'site', 'http://site.test/public'],
    ['/public#/../admin', 'site', 'http://site.test/public'],
  ] as const) {
    const answer = await get(target);
    t.same([answer.status, answer.json?.worker, answer.json?.url], [200, worker, url], target);
  }
  t.equal((await get('/p', 'SITE.test.:80')).json?.url, 'http://site.test./p', 'the host as the URL parser writes it');
  for (const host of ['site.test:@gate.localhost', 'site.test:x@evil.test', 'site.test:/evil?', 'site.test:#', 'site.test:99999', 'site.test:abc', '%65vil.test', `${'a.'.repeat(200)}test`]) {
    const answer = await get('/p', host);
    t.same([answer.status, answer.code], [400, 'ISO_ERR_HTTP_HOST_INVALID'], `Host: ${host.slice(0, 40)}`);
  }
  const twice = await get('/p', 'site.test', 'host: gate.localhost\r\n');
  t.same([twice.status, twice.code], [400, 'ISO_ERR_HTTP_HOST_INVALID'], 'two Host headers');
  const absolute = await get('http://gate.localhost/abs?q=1', 'site.test');
  t.same([absolute.status, absolute.json?.worker, absolute.json?.url], [200, 'gate', 'http://gate.localhost/abs?q=1'], 'the absolute form names the host');
  const hop = await get('/h', 'site.test', 'keep-alive: timeout=5\r\nupgrade: websocket\r\nx-secret: 1\r\nx-kept: 2\r\ncf-connecting-ip: 6.6.6.6\r\n');
  const names = Object.fromEntries(hop.json!.headers);
  t.equal(names['keep-alive'], undefined, 'hop-by-hop headers stay with the connection');
  t.equal(names.upgrade, undefined);
  t.equal(names.connection, undefined);
  t.equal(names['x-kept'], '2');
  t.equal(names['cf-connecting-ip'], '127.0.0.1', "the connection's own address, not the client's claim");
  t.equal(names['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For is set to it');
  const proxied = Object.fromEntries((await get('/h', 'site.test', 'x-forwarded-for: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7, 8.8.8.8\r\n')).json!.headers);
  t.equal(proxied['x-forwarded-for'], '6.6.6.6, 7.7.7.7, 8.8.8.8, 127.0.0.1', "a client's X-Forwarded-For gets the connection's address appended");
  const named = await get('/h', 'site.test', 'x-private: 1\r\nconnection: x-private\r\n');
  t.equal(Object.fromEntries(named.json!.headers)['x-private'], undefined, 'a header the Connection header names is hop-by-hop too');
  const unnamed = Object.fromEntries((await get('/h', 'site.test', 'connection: cf-connecting-ip, host\r\n')).json!.headers);
  t.same([unnamed['cf-connecting-ip'], unnamed.host], ['127.0.0.1', 'site.test'], 'but it cannot name away the client address or the Host');
  const absoluteHost = Object.fromEntries((await get('http://gate.localhost/abs', 'site.test')).json!.headers);
  t.equal(absoluteHost.host, 'gate.localhost', "the absolute form's Host header is its target's");
  const [withCredentials, credentialsCode] = statusAndCode(await exchange('GET http://user:pw@gate.localhost/x HTTP/1.1\r\nhost: gate.localhost\r\nconnection: close\r\n\r\n'));
  t.same([withCredentials, credentialsCode], [400, 'ISO_ERR_HTTP_TARGET_INVALID'], 'a target with credentials is refused');
});

t.test('a client that never reads a large response loses its connection; the process lets the body go', async (t) => {
  const size = 16 * 1024 * 1024;
  // CPU to spare (the most a worker may use on the serving thread): making and handing over 16 MB took
  // more than the default 50 ms on a loaded machine, and the answer was a short 503 on a kept connection.
  const source = `export default { fetch() { return new Response('x'.repeat(${size})) } }`;
  t.equal((await deployMultipart(server, 'large', { main_module: 'main.js', limits: { cpu_ms: 200 } }, { 'main.js': source })).status, 201);
  const { port } = new URL(server.dataUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  socket.on('error', () => {});
  // Not reading: the kernel's buffers fill and the rest of the body waits in the serving process.
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nhost: large.localhost\r\n\r\n');
  await new Promise((r) => setTimeout(r, 2500));
  // Reading again, long after the send stall (500 ms): what was left in the process is gone.
  let received = 0;
  let head = '';
  socket.on('data', (chunk: Buffer) => {
    if (received === 0) head = chunk.subarray(0, 12).toString('latin1');
    received += chunk.length;
  });
  const closed = new Promise<boolean>((resolve) => socket.on('close', () => resolve(true)));
  socket.resume();
  const ended = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  socket.destroy();
  t.equal(head, 'HTTP/1.1 200', 'the worker answered');
  t.ok(ended, 'the server closed the connection');
  t.ok(received < size, `the body was cut short (${received} of ${size} bytes)`);
});

t.test('a client reading a large response slowly but steadily keeps its connection (the stall watch measures progress)', async (t) => {
  // A server of its own, with a stall period that a reader on a loaded machine cannot miss by chance: with
  // 500 ms, one run under a full suite's load was cut off at 10.3 of 12 MB (its timer late by a period).
  const steady = await startServer(t, { args: ['--send-stall-ms', '1500'] });
  const size = 12 * 1024 * 1024;
  t.equal((await deployScript(steady, 'large-steady', `export default { fetch() { return new Response('y'.repeat(${size})) } }`)).status, 201);
  const { port } = new URL(steady.dataUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  socket.on('error', () => {});
  socket.pause();
  let received = 0;
  let closedEarly = false;
  socket.on('close', () => (closedEarly = received < size));
  socket.write('GET / HTTP/1.1\r\nhost: large-steady.localhost\r\n\r\n');
  const started = performance.now();
  // ~4 MB/s: the whole body takes ~3 s, twice the stall period: it is progress that keeps it, not an end.
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      let taken = 0;
      let chunk: Buffer | null;
      while (taken < 80 * 1024 && (chunk = socket.read() as Buffer | null) !== null) taken += chunk.length;
      received += taken;
      if (received >= size || closedEarly || performance.now() - started > 20_000) {
        clearInterval(tick);
        resolve();
      }
    }, 20);
  });
  socket.destroy();
  t.notOk(closedEarly, `not cut off (${received} bytes in ${(performance.now() - started).toFixed(0)} ms)`);
  t.ok(received >= size, 'the whole body arrived');
});

t.test("a small body sent a byte at a time is refused at the worker's wall-time limit, not after 5 minutes", async (t) => {
  const deployed = await deployMultipart(server, 'patient', { main_module: 'w.js', limits: { wall_ms: 1000 } }, { 'w.js': `export default { async fetch(request) { return new Response(await request.text()) } }` });
  t.equal(deployed.status, 201, deployed.text);
  const { port } = new URL(server.dataUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const started = performance.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - started)));
  socket.write('POST / HTTP/1.1\r\nhost: patient.localhost\r\ncontent-length: 1000\r\n\r\n');
  const drip = setInterval(() => socket.writable && socket.write('x'), 200);
  const elapsed = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 8000))]);
  clearInterval(drip);
  socket.destroy();
  const [status, code] = statusAndCode(received);
  t.same([status, code], [408, 'ISO_ERR_HTTP_BODY_TIMEOUT']);
  t.ok(elapsed < 4000, `answered and closed after ${elapsed.toFixed(0)} ms (wall limit 1 s)`);
});

t.test('Expect: 100-continue is answered after routing and the length check; other expectations and CONNECT get JSON', async (t) => {
  await deployMultipart(server, 'continues', { main_module: 'w.js', limits: { request_bytes: 1000 } }, { 'w.js': `export default { async fetch(request) { return new Response('got ' + (await request.text()).length) } }` });
  const head = (host: string, length: number) => `POST / HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${length}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n`;
  const tooLarge = await exchange(head('continues.localhost', 5000), 1500);
  t.match(tooLarge, /^HTTP\/1\.1 413 /, 'over request_bytes: 413 at once, no 100 Continue first');
  const unknown = await exchange(head('nobody.localhost', 10), 1500);
  t.match(unknown, /^HTTP\/1\.1 404 /, 'no such worker: 404 at once, no 100 Continue first');
  const { port } = new URL(server.dataUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  let received = '';
  const gotContinue = new Promise<void>((resolve) => socket.on('data', (chunk) => {
    received += chunk.toString('latin1');
    if (received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) resolve();
  }));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write(head('continues.localhost', 5));
  await gotContinue;
  socket.write('hello');
  await closed;
  t.match(received, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*got 5$/, 'a body that fits: 100 Continue, then the answer');
  const [status, code] = statusAndCode(await exchange('GET / HTTP/1.1\r\nhost: continues.localhost\r\nexpect: something-else\r\nconnection: close\r\n\r\n'));
  t.same([status, code], [417, 'ISO_ERR_HTTP_EXPECTATION_FAILED']);
  const [connectStatus, connectCode] = statusAndCode(await exchange('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n'));
  t.same([connectStatus, connectCode], [400, 'ISO_ERR_HTTP_TARGET_INVALID']);
});

t.test('a header value with Latin-1 characters goes out as those bytes, whatever the body', async (t) => {
  // Node writes the head in front of a string body in the body's encoding (UTF-8): the host sends bytes then.
  t.equal((await deployScript(server, 'latin', `export default { fetch(request) {
    const kind = new URL(request.url).pathname;
    const body = kind === '/text' ? 'text' : kind === '/bytes' ? new Uint8Array([1, 2]) : new ReadableStream({ start(c) { c.enqueue(new Uint8Array([3])); c.close(); } });
    return new Response(body, { headers: { 'x-name': 'caf\u00e9 \u00e0 la cr\u00e8me' } });
  } }`)).status, 201);
  for (const kind of ['/text', '/bytes', '/stream']) {
    const answer = Buffer.from(await exchange(`GET ${kind} HTTP/1.1\r\nhost: latin.localhost\r\nconnection: close\r\n\r\n`), 'latin1');
    t.ok(answer.includes(Buffer.from('x-name: caf\xe9 \xe0 la cr\xe8me\r\n', 'latin1')), `${kind}: one byte per character`);
    t.notOk(answer.includes(Buffer.from('caf\xc3\xa9', 'latin1')), `${kind}: not UTF-8`);
  }
  const text = Buffer.from(await exchange('GET /text HTTP/1.1\r\nhost: latin.localhost\r\nconnection: close\r\n\r\n'), 'latin1').toString('latin1');
  t.match(text, /content-length: 4\r\n[\s\S]*\r\n\r\ntext$/i, 'the body is unchanged');
});

t.test("a Response's statusText is the reason phrase on the wire, as on workerd", async (t) => {
  t.equal((await deployScript(server, 'reason', `export default { fetch(request) {
    const kind = new URL(request.url).pathname;
    if (kind === '/none') return new Response('x', { status: 404 });
    const body = kind === '/stream' ? new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); } }) : 'x';
    return new Response(body, { status: 418, statusText: 'Short and Stout \u00e9' });
  } }`)).status, 201);
  for (const kind of ['/text', '/stream']) {
    const answer = Buffer.from(await exchange(`GET ${kind} HTTP/1.1\r\nhost: reason.localhost\r\nconnection: close\r\n\r\n`), 'latin1');
    t.equal(answer.toString('latin1').split('\r\n')[0], 'HTTP/1.1 418 Short and Stout \xe9', `${kind}: one byte per character`);
  }
  t.match(await exchange('GET /none HTTP/1.1\r\nhost: reason.localhost\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 404 Not Found\r\n/, 'without one, the standard phrase');
});

t.test('after all that the server still serves', async (t) => {
  await deployScript(server, 'after', `export default { fetch() { return new Response('still here') } }`);
  t.equal((await send(server, 'after.localhost')).text, 'still here');
});

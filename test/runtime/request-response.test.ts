import t from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('Response bodies: text, json, arrayBuffer, bytes, bodyUsed', async (t) => {
  t.same(
    ev.run(`
      const out = {};
      out.text = await new Response('héllo').text();
      out.json = await new Response('{"a":[1,2]}').json();
      out.buffer = [...new Uint8Array(await new Response('hé').arrayBuffer())];
      const bytes = await new Response(new Uint8Array([1, 2, 3])).bytes();
      out.bytes = [bytes instanceof Uint8Array, [...bytes]];
      const r = new Response('x');
      out.before = r.bodyUsed;
      await r.text();
      out.after = r.bodyUsed;
      out.again = await r.text().then(() => 'resolved', (e) => e.name);
      out.nullBody = [await new Response().text(), await new Response(null).text(), new Response().bodyUsed, new Response().body];
      return out;
    `),
    {
      text: 'héllo',
      json: { a: [1, 2] },
      buffer: [0x68, 0xc3, 0xa9],
      bytes: [true, [1, 2, 3]],
      before: false,
      after: true,
      again: 'TypeError',
      nullBody: ['', '', false, null],
    },
  );
});

t.test('a null body can be read any number of times', async (t) => {
  t.same(ev.run(`const r = new Response(null); return [await r.text(), await r.text(), r.bodyUsed]`), ['', '', false]);
});

t.test('body inits set Content-Type and are copied', async (t) => {
  t.same(
    ev.run(`
      const bytes = new Uint8Array([104, 105]);
      const fromView = new Response(bytes);
      bytes[0] = 0;
      const params = new URLSearchParams({ a: '1 2', b: 'é' });
      const ab = new Uint8Array([1, 2, 3, 4]).buffer;
      return {
        string: new Response('x').headers.get('content-type'),
        params: [new Response(params).headers.get('content-type'), await new Response(params).text()],
        view: [fromView.headers.get('content-type'), await fromView.text()],
        partialView: [...new Uint8Array(await new Response(new Uint8Array(ab, 1, 2)).arrayBuffer())],
        dataView: [...new Uint8Array(await new Response(new DataView(ab, 2)).arrayBuffer())],
        explicit: new Response('x', { headers: { 'Content-Type': 'text/html' } }).headers.get('content-type'),
        other: await new Response({ toString() { return 'object body' } }).text(),
        number: await new Response(42).text(),
        // Not BufferSources: a view of shared memory, a fake stream; both become strings.
        shared: await new Response(new Uint8Array(new SharedArrayBuffer(2))).text(),
        fakeStream: await new Response(Object.create(ReadableStream.prototype, { toString: { value: () => 'fake stream' } })).text(),
        arrayBuffer: await new Response(new Uint8Array([111, 107]).buffer).text(),
      };
    `),
    {
      string: 'text/plain;charset=UTF-8',
      params: ['application/x-www-form-urlencoded;charset=UTF-8', 'a=1+2&b=%C3%A9'],
      view: [null, 'hi'],
      partialView: [2, 3],
      dataView: [3, 4],
      explicit: 'text/html',
      other: 'object body',
      number: '42',
      shared: '0,0',
      fakeStream: 'fake stream',
      arrayBuffer: 'ok',
    },
  );
});

t.test('text() strips a UTF-8 BOM and replaces invalid bytes; json() rejects with SyntaxError', async (t) => {
  t.same(
    ev.run(`
      return [
        await new Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])).text(),
        await new Response('\\ufeffb').text(),
        await new Response(new Uint8Array([0x61, 0xff, 0x62])).text(),
        await new Response('{').json().then(() => 'ok', (e) => e.name),
      ];
    `),
    ['a', 'b', 'a\ufffdb', 'SyntaxError'],
  );
});

t.test('status, statusText, ok, type, url, redirected', async (t) => {
  t.same(
    ev.run(`
      const r = new Response('x', { status: 404, statusText: 'Not Found' });
      const d = new Response();
      return [r.status, r.statusText, r.ok, r.type, r.url, r.redirected, d.status, d.ok, d.statusText];
    `),
    [404, 'Not Found', false, 'default', '', false, 200, true, ''],
  );
});

t.test('invalid Response inits throw', async (t) => {
  for (const [code, name] of [
    [`new Response('x', { status: 199 })`, 'RangeError'],
    [`new Response('x', { status: 600 })`, 'RangeError'],
    [`new Response('x', { status: 0 })`, 'RangeError'],
    [`new Response('x', { statusText: 'bad\\n' })`, 'TypeError'],
    [`new Response('x', { status: 204 })`, 'TypeError'],
    [`new Response('x', { status: 304 })`, 'TypeError'],
    [`new Response('x', 'init')`, 'TypeError'],
  ] as const) {
    t.throws(() => ev.run(code), { name }, code);
  }
  t.equal(ev.run(`return new Response(null, { status: 204 }).status`), 204);
});

t.test('Response.json', async (t) => {
  t.same(
    ev.run(`
      const r = Response.json({ a: 1 }, { status: 201, headers: { 'x-y': 'z' } });
      const typed = Response.json([1], { headers: { 'content-type': 'application/vnd.api+json' } });
      return [r.status, r.headers.get('content-type'), r.headers.get('x-y'), await r.json(),
              typed.headers.get('content-type'), await typed.text()];
    `),
    [201, 'application/json', 'z', { a: 1 }, 'application/vnd.api+json', '[1]'],
  );
  t.throws(() => ev.run(`Response.json(undefined)`), { name: 'TypeError' });
  t.throws(() => ev.run(`Response.json(Symbol())`), { name: 'TypeError' });
  t.throws(() => ev.run(`const a = {}; a.a = a; Response.json(a)`), { name: 'TypeError' });
});

t.test('Response.redirect', async (t) => {
  t.same(
    ev.run(`
      const r = Response.redirect('https://example.com/a b');
      const p = Response.redirect('https://example.com/', 301);
      return [r.status, r.headers.get('location'), p.status, r.body, await r.text()];
    `),
    [302, 'https://example.com/a%20b', 301, null, ''],
  );
  for (const status of [200, 300, 304, 399]) {
    t.throws(() => ev.run(`Response.redirect('https://example.com/', ${status})`), { name: 'RangeError' }, `${status}`);
  }
  t.throws(() => ev.run(`Response.redirect('/relative')`), { name: 'TypeError' });
});

t.test('Response.error', async (t) => {
  t.same(
    ev.run(`const r = Response.error(); return [r.type, r.status, r.statusText, r.ok, r.body, [...r.headers]]`),
    ['error', 0, '', false, null, []],
  );
});

t.test('clone() shares the body; a used body cannot be cloned', async (t) => {
  t.same(
    ev.run(`
      const r = new Response('abc', { status: 201, headers: { a: '1' } });
      const c = r.clone();
      c.headers.set('a', '2');
      const texts = [await r.text(), await c.text()];
      const error = (() => { try { r.clone(); } catch (e) { return e.name; } })();
      return [texts, c.status, r.headers.get('a'), error];
    `),
    [['abc', 'abc'], 201, '1', 'TypeError'],
  );
});

t.test('Request: url, method normalisation, headers, redirect', async (t) => {
  t.same(
    ev.run(`
      const r = new Request('HTTPS://Example.COM:443/a/../b?x#frag', { method: 'post', headers: { a: '1' }, body: 'x' });
      const patch = new Request('https://example.com/', { method: 'patch' });
      const custom = new Request('https://example.com/', { method: 'Custom' });
      const get = new Request('https://example.com/');
      return [r.url, r.method, r.headers.get('a'), r.headers.get('content-type'), r.redirect, patch.method, custom.method,
              get.method, get.redirect, get.bodyUsed, get.body, get.signal.aborted, get.integrity, get.keepalive,
              new Request('https://example.com/', { redirect: 'manual' }).redirect];
    `),
    [
      'https://example.com/b?x#frag',
      'POST',
      '1',
      'text/plain;charset=UTF-8',
      'follow',
      'PATCH',
      'Custom',
      'GET',
      'follow',
      false,
      null,
      false,
      '',
      false,
      'manual',
    ],
  );
});

t.test('invalid Request inits throw TypeError', async (t) => {
  for (const code of [
    `new Request('/relative')`,
    `new Request('not a url')`,
    `new Request('https://user:pass@example.com/')`,
    `new Request('https://example.com/', { method: 'CONNECT' })`,
    `new Request('https://example.com/', { method: 'trace' })`,
    `new Request('https://example.com/', { method: 'bad method' })`,
    `new Request('https://example.com/', { body: 'x' })`,
    `new Request('https://example.com/', { method: 'HEAD', body: 'x' })`,
    `new Request('https://example.com/', { redirect: 'sometimes' })`,
    `new Request()`,
  ]) {
    t.throws(() => ev.run(code), { name: 'TypeError' }, code);
  }
});

t.test('Request bodies, clone and construction from a Request', async (t) => {
  t.same(
    ev.run(`
      const r = new Request('https://example.com/', { method: 'POST', body: '{"k":true}' });
      const c = r.clone();
      const json = await r.json();
      const text = await c.text();
      const src = new Request('https://example.com/', { method: 'PUT', body: 'moved', headers: { h: 'v' } });
      const copy = new Request(src);
      const moved = [src.bodyUsed, copy.method, copy.headers.get('h'), await copy.text()];
      const reuse = (() => { try { new Request(src); return 'ok'; } catch (e) { return e.name; } })();
      const override = new Request(new Request('https://example.com/', { method: 'POST', body: 'a' }), { body: 'b' });
      const bytes = [...await new Request('https://example.com/', { method: 'POST', body: new Uint8Array([7]) }).bytes()];
      return [json, text, moved, reuse, await override.text(), bytes];
    `),
    [{ k: true }, '{"k":true}', [true, 'PUT', 'v', 'moved'], 'TypeError', 'b', [7]],
  );
});

t.test('the incoming request carries method, url, headers and body from the host', async (t) => {
  const answer = ev.worker.fetch('https://host.example/path?q=1', {
    method: 'POST',
    headers: { 'X-Test': 'yes' },
    body: `return [request.method, request.url, request.headers.get('x-test'), request.bodyUsed, request.headers.get('content-type')]`,
  });
  t.same(JSON.parse(answer.body!).value, ['POST', 'https://host.example/path?q=1', 'yes', true, null]);
});

t.test('getters and methods check their receiver', async (t) => {
  t.throws(() => ev.run(`Object.getOwnPropertyDescriptor(Response.prototype, 'status').get.call({})`), { name: 'TypeError' });
  t.throws(() => ev.run(`Request.prototype.clone.call(new Response())`), { name: 'TypeError' });
  t.equal(ev.run(`return await Response.prototype.text.call({}).then(() => 'ok', (e) => e.name)`), 'TypeError');
});

t.test('classes look like platform classes', async (t) => {
  t.same(
    ev.run(`
      return [Request.name, Response.name, Object.prototype.toString.call(new Response()),
              Object.prototype.toString.call(new Request('https://a.example/')), new Response().constructor === Response,
              typeof Response.json, Object.getOwnPropertyNames(new Response()).length];
    `),
    ['Request', 'Response', '[object Response]', '[object Request]', true, 'function', 0],
  );
});

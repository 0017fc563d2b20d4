import t, { type Test } from 'tap';
import { TestWorker } from './harness.ts';

async function moduleWorker(t: Test, source: string, env: Record<string, unknown> = {}): Promise<TestWorker> {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.equal(w.deployModule(source, env), 'module');
  return w;
}

async function scriptWorker(t: Test, source: string, env: Record<string, unknown> = {}): Promise<TestWorker> {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.equal(w.deployScript(source, env), 'service-worker');
  return w;
}

t.test('module syntax: request, env and ctx reach the handler; the response goes back as sent', async (t) => {
  const w = await moduleWorker(
    t,
    `
    export default {
      async fetch(request, env, ctx) {
        const url = new URL(request.url);
        if (url.pathname === '/bytes') return new Response(new Uint8Array([1, 2, 3]), { status: 201 });
        if (url.pathname === '/empty') return new Response(null, { status: 204, headers: { 'x-a': '1' } });
        return new Response(JSON.stringify({
          method: request.method, url: request.url, header: request.headers.get('x-in'), body: await request.text(),
          env, ctx: [typeof ctx.waitUntil, typeof ctx.passThroughOnException, ctx.passThroughOnException()],
        }), { headers: [['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']] });
      },
    };`,
    { GREETING: 'hello', CONFIG: { nested: [1, 2] } },
  );
  const answer = w.fetch('https://w.example/echo?x=1', { method: 'PUT', headers: { 'x-in': 'yes' }, body: 'payload' });
  t.equal(answer.status, 200);
  t.same(answer.headers, ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-type', 'text/plain;charset=UTF-8']);
  t.equal(typeof answer.rawBody, 'string', 'a string body crosses as a string');
  t.same(JSON.parse(answer.body!), {
    method: 'PUT',
    url: 'https://w.example/echo?x=1',
    header: 'yes',
    body: 'payload',
    env: { GREETING: 'hello', CONFIG: { nested: [1, 2] } },
    ctx: ['function', 'function', null],
  });
  t.equal(answer.done, true);

  const bytes = w.fetch('https://w.example/bytes');
  t.equal(bytes.status, 201);
  t.ok(bytes.rawBody instanceof ArrayBuffer, 'bytes cross as an ArrayBuffer');
  t.same([...new Uint8Array(bytes.rawBody as ArrayBuffer)], [1, 2, 3]);

  const empty = w.fetch('https://w.example/empty');
  t.same([empty.status, empty.headers, empty.rawBody], [204, ['x-a', '1'], null]);

  const order = w.calls.filter((c) => c[1] === answer.id).map((c) => c[0]);
  t.same(order, ['respond', 'done'], 'respond, then done, once each');
  t.same(w.callsFor(answer.id, 'done'), [['done', answer.id, 'with respond']], 'one host call carries both: one crossing out per request');
});

t.test('a synchronous handler and a thenable result are answered too', async (t) => {
  const w = await moduleWorker(
    t,
    `export default { fetch(request) {
       if (request.url.endsWith('/thenable')) return { then(resolve) { resolve(new Response('from thenable')) } };
       return new Response('sync');
     } };`,
  );
  t.equal(w.fetch('https://w.example/').body, 'sync');
  t.equal(w.fetch('https://w.example/thenable').body, 'from thenable');
});

t.test('errors: throws, rejections, wrong results', async (t) => {
  const w = await moduleWorker(
    t,
    `
    export default {
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/throw') throw new TypeError('handler broke');
        if (path === '/string') throw 'just a string';
        if (path === '/not-response') return 'text';
        if (path === '/undefined') return undefined;
        if (path === '/network-error') return Response.error();
        if (path === '/used') { const r = new Response('x'); await r.text(); return r; }
        return new Response('fine');
      },
    };`,
  );
  const thrown = w.fetch('https://w.example/throw');
  t.equal(thrown.status, undefined, 'no respond');
  t.equal(thrown.error?.message, 'handler broke');
  t.match(thrown.error?.stack, /^TypeError: handler broke\n {4}at Object\.fetch \(file:\/\/\/main\.js:/);
  t.equal(thrown.done, true);

  t.match(w.fetch('https://w.example/string').error, { message: "Uncaught 'just a string'" });
  for (const path of ['/not-response', '/undefined', '/network-error', '/used']) {
    const answer = w.fetch(`https://w.example${path}`);
    t.match(answer.error, { message: /^Incorrect type for the fetch handler's result/ }, path);
    t.equal(answer.done, true, path);
  }
  t.equal(w.fetch('https://w.example/').body, 'fine', 'the worker still serves');
});

t.test('a synchronous throw is reported the same way', async (t) => {
  const w = await moduleWorker(t, `export default { fetch() { null.boom } }`);
  const answer = w.fetch('https://w.example/');
  t.match(answer.error, { message: /Cannot read properties of null/, stack: /^TypeError: / });
  t.equal(answer.done, true);
});

t.test('done waits for every waitUntil promise; rejections are logged', async (t) => {
  const w = await moduleWorker(
    t,
    `
    export default {
      fetch(request, env, ctx) {
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 100)));
        ctx.waitUntil(new Promise((_, reject) => setTimeout(() => reject(new Error('background failed')), 50)));
        ctx.waitUntil('not a promise');
        return new Response('early');
      },
    };`,
  );
  const id = w.send('https://w.example/');
  t.same(
    w.callsFor(id).map((c) => c[0]),
    ['respond'],
    'the response is sent before waitUntil settles',
  );
  w.fireNextTimer(); // 50 ms: the rejection
  t.same(w.callsFor(id).map((c) => c[0]), ['respond']);
  t.match(w.logs(), [['error', /^Uncaught Error: background failed/]]);
  w.fireNextTimer(); // 100 ms
  t.same(w.callsFor(id).map((c) => c[0]), ['respond', 'done']);
});

t.test('waitUntil after an error still delays done; waitUntil right after the response counts', async (t) => {
  const w = await moduleWorker(
    t,
    `
    export default {
      async fetch(request, env, ctx) {
        if (request.url.endsWith('/after')) {
          const response = new Response('x');
          Promise.resolve().then(() => ctx.waitUntil(new Promise((r) => setTimeout(r, 5))));
          return response;
        }
        ctx.waitUntil(new Promise((r) => setTimeout(r, 5)));
        throw new Error('failed');
      },
    };`,
  );
  const failed = w.send('https://w.example/error');
  t.same(w.callsFor(failed).map((c) => c[0]), ['error']);
  w.fireNextTimer();
  t.same(w.callsFor(failed).map((c) => c[0]), ['error', 'done']);

  const after = w.send('https://w.example/after');
  t.same(w.callsFor(after).map((c) => c[0]), ['respond']);
  w.fireNextTimer();
  t.same(w.callsFor(after).map((c) => c[0]), ['respond', 'done']);
});

t.test('cancel: nothing more is sent for that invocation', async (t) => {
  const w = await moduleWorker(
    t,
    `export default { fetch(request, env, ctx) {
       return new Promise((resolve) => setTimeout(() => resolve(new Response('late')), 10));
     } };`,
  );
  const a = w.send('https://w.example/a');
  const b = w.send('https://w.example/b');
  w.dispatch('cancel', a);
  w.dispatch('cancel', 12345); // unknown ids are ignored
  w.fireNextTimer();
  w.fireNextTimer();
  t.same(w.callsFor(a), [], 'no respond or done for the cancelled invocation');
  t.same(w.callsFor(b).map((c) => c[0]), ['respond', 'done']);
});

t.test('concurrent invocations are answered independently', async (t) => {
  const w = await moduleWorker(
    t,
    `export default { fetch(request) {
       const ms = Number(new URL(request.url).searchParams.get('ms'));
       return new Promise((resolve) => setTimeout(() => resolve(new Response(String(ms))), ms));
     } };`,
  );
  const slow = w.send('https://w.example/?ms=30');
  const fast = w.send('https://w.example/?ms=10');
  w.fireNextTimer();
  t.equal(w.answerOf(fast).body, '10');
  t.equal(w.answerOf(slow).status, undefined);
  w.fireNextTimer();
  t.equal(w.answerOf(slow).body, '30');
});

t.test('install: no fetch handler is a TypeError; installing twice too', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.throws(() => w.deployModule(`export default { notFetch() {} }`), /no fetch handler/);
  const w2 = await TestWorker.create();
  t.teardown(() => w2.dispose());
  t.throws(() => w2.deployModule(`export const fetch = () => new Response('x')`), /no fetch handler/);
  const w3 = await TestWorker.create();
  t.teardown(() => w3.dispose());
  t.throws(() => w3.deployScript(`const x = 1;`), /no fetch handler/);
  const w4 = await TestWorker.create();
  t.teardown(() => w4.dispose());
  w4.deployModule(`export default { fetch() { return new Response('x') } }`);
  t.throws(() => w4.dispatch('install', undefined), /already installed/);
  t.throws(() => w4.dispatch('bindings', '{}', '', false), /already installed/, 'bindings come before install only');
  t.throws(() => w4.dispatch('bogus'), /Unknown dispatch op/);
});

t.test('service-worker syntax: FetchEvent, respondWith, waitUntil, bindings as globals', async (t) => {
  const w = await scriptWorker(
    t,
    `
    addEventListener('fetch', (event) => {
      const path = new URL(event.request.url).pathname;
      if (path === '/skip') return;
      if (path === '/throw') throw new Error('listener broke');
      event.passThroughOnException();
      event.waitUntil(new Promise((resolve) => setTimeout(resolve, 20)));
      event.respondWith((async () => new Response(JSON.stringify({
        type: event.type, method: event.request.method, greeting: GREETING, config: CONFIG,
        isEvent: Object.prototype.toString.call(event),
      })))());
      try { event.respondWith(new Response('twice')) } catch (e) { globalThis.twice = e.name }
    });
    addEventListener('fetch', () => { globalThis.secondRan = true });
    `,
    { GREETING: 'hi', CONFIG: { a: 1 } },
  );
  const id = w.send('https://sw.example/');
  const answer = w.answerOf(id);
  t.same(JSON.parse(answer.body!), { type: 'fetch', method: 'GET', greeting: 'hi', config: { a: 1 }, isEvent: '[object FetchEvent]' });
  t.equal(answer.done, false, 'waitUntil still pending');
  w.fireNextTimer();
  t.equal(w.answerOf(id).done, true);
  t.equal(w.eval('twice'), 'InvalidStateError');
  t.equal(w.eval('globalThis.secondRan'), undefined, 'respondWith stops the other listeners');

  const skipped = w.fetch('https://sw.example/skip');
  t.match(skipped.error, { message: /respondWith/ });
  t.equal(w.eval('globalThis.secondRan'), true);
  t.equal(skipped.done, true);

  const thrown = w.fetch('https://sw.example/throw');
  t.match(thrown.error, { message: 'listener broke' });
  t.equal(thrown.done, true);
});

t.test('service-worker syntax: respondWith outside the dispatch, handleEvent objects, removeEventListener', async (t) => {
  const w = await scriptWorker(
    t,
    `
    let saved;
    const removed = () => { throw new Error('removed listener ran') };
    addEventListener('fetch', removed);
    removeEventListener('fetch', removed);
    addEventListener('fetch', {
      handleEvent(event) {
        saved = event;
        event.respondWith(new Promise((resolve) => setTimeout(() => {
          let late;
          try { saved.respondWith(new Response('late')) } catch (e) { late = e.name }
          resolve(new Response(late));
        }, 1)));
      },
    });
    `,
  );
  t.equal(w.fetch('https://sw.example/').body, 'InvalidStateError');
});

t.test('a worker that breaks its own globals still gets later requests dispatched', async (t) => {
  const w = await moduleWorker(
    t,
    `
    const R = Response;
    const P = Promise;
    let count = 0;
    export default {
      async fetch(request, env, ctx) {
        count++;
        if (count === 1) {
          const boom = () => { throw new Error('patched') };
          Array.prototype.push = boom;
          Array.prototype[Symbol.iterator] = boom;
          Array.isArray = boom;
          Promise.prototype.then = boom;
          Function.prototype.call = boom;
          Function.prototype.apply = boom;
          Function.prototype.bind = boom;
          String.prototype.toLowerCase = boom;
          String.prototype.charCodeAt = boom;
          String.prototype.slice = boom;
          Map.prototype.get = boom;
          Map.prototype.set = boom;
          RegExp.prototype.exec = boom;
          Symbol.prototype.toString = boom;
          globalThis.Response = null;
          globalThis.Request = null;
          globalThis.Headers = null;
          globalThis.Promise = null;
          globalThis.JSON = null;
          globalThis.Object = null;
          globalThis.Reflect = null;
          globalThis.Uint8Array = null;
          globalThis.ArrayBuffer = null;
          globalThis.TextEncoder = null;
          globalThis.setTimeout = null;
          globalThis.console = null;
          return new R('broke everything');
        }
        ctx.waitUntil(new P((resolve) => resolve()));
        return new R('still ' + count, { headers: { 'X-Count': String(count) } });
      },
    };`,
  );
  t.equal(w.fetch('https://w.example/').body, 'broke everything');
  for (let i = 2; i <= 3; i++) {
    const answer = w.fetch('https://w.example/', { headers: { 'X-In': 'v' } });
    t.equal(answer.body, `still ${i}`);
    t.same(answer.headers, ['x-count', String(i), 'content-type', 'text/plain;charset=UTF-8']);
    t.equal(answer.done, true);
  }
});

t.test('errors from a broken-globals worker are still reported', async (t) => {
  const w = await moduleWorker(
    t,
    `export default { async fetch() {
       Error.prototype.toString = () => { throw new Error('nope') };
       Promise.prototype.then = () => { throw new Error('nope') };
       throw new RangeError('after patching');
     } };`,
  );
  const answer = w.fetch('https://w.example/');
  t.equal(answer.error?.message, 'after patching');
  t.equal(answer.done, true);
});

t.test('a thrown value that throws when it is read still fails the request (500), at once', async (t) => {
  const w = await moduleWorker(
    t,
    `const hostile = new Proxy({}, { getPrototypeOf() { throw 4 }, get() { throw 5 }, ownKeys() { throw 6 }, getOwnPropertyDescriptor() { throw 7 }, has() { throw 8 } });
     export default { fetch() { throw hostile } };`,
  );
  const id = w.send('https://w.example/');
  const calls = w.callsFor(id);
  t.same(calls.map((c) => c[0]), ['error', 'done'], 'the host is told, and the invocation is over');
  t.match(String(calls[0]![2]), /Uncaught/, 'with a message of its own');
});

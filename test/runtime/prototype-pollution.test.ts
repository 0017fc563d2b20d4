/**
 * Tenant code may change Object.prototype (old libraries do; a hostile tenant will). The runtime's own
 * property definitions must not inherit from it: a descriptor literal inherits `get`/`value` from
 * Object.prototype, and the definition then throws ("Invalid property descriptor") or defines something
 * else. Each case runs its code for the first time in a fresh isolate (lazy globals and runtime chunks
 * are defined on first use), with Object.prototype carrying `get`, `set`, `value` and an enumerable
 * property.
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

const CASES: Record<string, [code: string, expected: unknown]> = {
  'a lazy global read first (Event and its constants)': [`return [new Event('x').type, Event.AT_TARGET]`, ['x', 2]],
  'a lazy global written first': [`globalThis.Blob = 5; return Blob`, 5],
  'FormData iteration': [`const f = new FormData(); f.append('a', '1'); return [...f]`, [['a', '1']]],
  'URLSearchParams iteration': [`return [...new URLSearchParams('a=1&b=2')]`, [['a', '1'], ['b', '2']]],
  structuredClone: [
    `const c = structuredClone({ a: 1, e: new RangeError('r') }); return [c.a, c.e.message, c.e instanceof RangeError, Object.hasOwn(c, 'polluted')]`,
    [1, 'r', true, false],
  ],
  'DOMException with a cause': [`return new DOMException('m', { cause: 7 }).cause`, 7],
  'reportError, as an error event': [
    `let seen = null;
     addEventListener('error', (e) => { seen = [e.message, Object.hasOwn(e, 'polluted')]; e.preventDefault() });
     reportError(new Error('boom'));
     return seen`,
    ['Uncaught Error: boom', false],
  ],
  'a CryptoKey and its JWK export': [
    `const key = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
     const jwk = await crypto.subtle.exportKey('jwk', key);
     return [key.usages, jwk.key_ops]`,
    [['sign', 'verify'], ['sign', 'verify']],
  ],
  'URL (whatwg-url, required on first use)': [`return new URL('https://a.test/x?q=1').searchParams.get('q')`, '1'],
  'a URL the fast path does not take (the whatwg-url chunk)': [
    `const u = new URL('../b/./c?q=a b#f', 'HTTP://user@Example.test:8080/a/'); u.searchParams.append('x', 'y z'); return [u.href, u.hostname, [...u.searchParams].length]`,
    ['http://user@example.test:8080/b/c?q=a+b&x=y+z#f', 'example.test', 2],
  ],
  'a web stream (a runtime chunk)': [
    `const reader = new ReadableStream({ start(c) { c.enqueue('a'); c.close() } }).getReader(); return (await reader.read()).value`,
    'a',
  ],
  'URLPattern (a runtime chunk)': [`return new URLPattern({ pathname: '/u/:id' }).exec('https://x.test/u/42').pathname.groups.id`, '42'],
  'a Response body read as a stream': [`const r = new Response('hi'); return await new Response(r.body).text()`, 'hi'],
  'a large JSON.parse (the interruptible one)': [
    `return JSON.parse('[' + '{"a":1},'.repeat(20000) + '{"a":2}]')[20000].a`,
    2,
  ],
};

const POLLUTE = `
  for (const [key, value] of [['get', function () { return 'polluted' }], ['set', function () {}], ['value', 'polluted']]) {
    Object.defineProperty(Object.prototype, key, { __proto__: null, value, writable: true, configurable: true });
  }
  Object.prototype.polluted = 1;`;
const CLEAN = `for (const key of ['get', 'set', 'value', 'polluted']) delete Object.prototype[key];`;

for (const [title, [code, expected]] of Object.entries(CASES)) {
  t.test(`${title}, with Object.prototype polluted`, async (t) => {
    const ev = await Evaluator.create();
    t.teardown(() => ev.dispose());
    t.same(ev.run(`${POLLUTE}\n try { ${code} } finally { ${CLEAN} }`), expected);
  });
}

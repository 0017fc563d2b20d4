/**
 * The URL and URLSearchParams classes (runtime/url/url-classes.ts) against Node's own (the reference):
 * each snippet runs in Node and in an isolate, and must give the same value, or throw the same kind of
 * error. Parsing and setters are covered by the web-platform-tests data (test/wpt/); these are the
 * interfaces around them: argument conversion, the URLSearchParams init forms, list operations,
 * iteration, the link between a URL and its searchParams, and Web IDL's observable shape.
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => () => Promise<unknown>;

type Outcome = { value: unknown } | { threw: string };

async function inNode(code: string): Promise<Outcome> {
  try {
    const value = await new AsyncFunction(code)();
    return { value: JSON.parse(JSON.stringify(value === undefined ? null : value)) };
  } catch (error) {
    return { threw: (error as Error).name };
  }
}

function inIsolate(code: string, evaluator = ev): Outcome {
  try {
    return { value: evaluator.run(code) };
  } catch (error) {
    return { threw: (error as Error).name };
  }
}

const snippets: Record<string, string> = {
  // URLSearchParams init: the Web IDL union (sequence, record, string) and its conversions.
  'string init, leading ?': `return [...new URLSearchParams('?a=1&b=2&a=3')]`,
  'string init, only the first ? is dropped': `return [...new URLSearchParams('??a=1')]`,
  'string init with + and escapes': `return [...new URLSearchParams('x=a+b%20c&y=%zz&=v&k=&&z')]`,
  'no init, undefined, empty': `return [[...new URLSearchParams()], [...new URLSearchParams(undefined)], [...new URLSearchParams('')]]`,
  'null and numbers are strings': `return [[...new URLSearchParams(null)], [...new URLSearchParams(12)], [...new URLSearchParams(true)]]`,
  'record init': `return [...new URLSearchParams({ b: '2', a: 1, c: null, d: undefined })]`,
  'record init skips non-enumerable': `const o = { a: '1' }; Object.defineProperty(o, 'hidden', { value: 'x', enumerable: false }); return [...new URLSearchParams(o)]`,
  'record init with a symbol key throws': `return new URLSearchParams({ [Symbol('s')]: 'x' })`,
  'sequence init': `return [...new URLSearchParams([['a', '1'], ['b', 2], ['a', null]])]`,
  'iterable init (Map, generator)': `function* g() { yield ['g', '1']; yield new Set(['h', '2']); } return [[...new URLSearchParams(new Map([['m', 'v']]))], [...new URLSearchParams(g())]]`,
  'URLSearchParams init is copied': `const a = new URLSearchParams('x=1'); const b = new URLSearchParams(a); b.append('y', '2'); return [a.toString(), b.toString()]`,
  'a pair of three throws': `return new URLSearchParams([['a', 'b', 'c']])`,
  'a pair that is not a sequence throws': `return new URLSearchParams(['ab'])`,
  'a non-callable @@iterator throws': `return new URLSearchParams({ [Symbol.iterator]: 1 })`,
  'lone surrogates become U+FFFD': `const p = new URLSearchParams(); p.append('\\uD800k', 'v\\uDC00'); return [[...p], p.toString()]`,
  'symbol value throws': `const p = new URLSearchParams(); p.append('a', Symbol('x'))`,
  'objects are converted with toString': `const p = new URLSearchParams(); p.append({ toString() { return 'n' } }, [1, 2]); return p.toString()`,

  // List operations.
  'get, getAll, has, size': `const p = new URLSearchParams('a=1&b=2&a=3'); return [p.get('a'), p.get('zz'), p.getAll('a'), p.getAll('zz'), p.has('b'), p.has('c'), p.size]`,
  'has and delete with a value': `const p = new URLSearchParams('a=1&a=2&a=1&b=1'); const r = [p.has('a', '2'), p.has('a', '3'), p.has('a', undefined)]; p.delete('a', '1'); r.push(p.toString()); p.delete('a', undefined); r.push(p.toString()); return r`,
  'set replaces the first and drops the rest': `const p = new URLSearchParams('a=1&b=2&a=3&c=4&a=5'); p.set('a', 'x'); p.set('d', 'y'); return p.toString()`,
  'sort is stable and by code units': `const p = new URLSearchParams('z=1&a=2&\\u{1F600}=3&\\uFFFD=4&a=1&A=0&a=3'); p.sort(); return [...p.keys()].concat([...p.values()])`,
  'serialisation encodes as application/x-www-form-urlencoded': `return new URLSearchParams([['a b', 'c&d=e'], ['é', '~*-._!'], ['+', '%']]).toString()`,
  'missing arguments throw': `const p = new URLSearchParams(); const r = []; for (const f of [() => p.append('a'), () => p.set('a'), () => p.get(), () => p.getAll(), () => p.has(), () => p.delete(), () => p.forEach()]) { try { f(); r.push('ok') } catch (e) { r.push(e.name) } } return r`,
  'a method on the wrong receiver throws': `return URLSearchParams.prototype.get.call({}, 'a')`,
  'size on the wrong receiver throws': `return Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'size').get.call({})`,

  // Iteration: live pair iterators.
  'entries, keys, values, default iterator': `const p = new URLSearchParams('a=1&b=2'); return [[...p.entries()], [...p.keys()], [...p.values()], [...p], URLSearchParams.prototype[Symbol.iterator] === URLSearchParams.prototype.entries]`,
  'iterators see later changes': `const p = new URLSearchParams('a=1&b=2'); const it = p.keys(); const first = it.next(); p.append('c', '3'); p.delete('a'); return [first, it.next(), it.next()]`,
  'iterator shape': `const it = new URLSearchParams('a=1')[Symbol.iterator](); const proto = Object.getPrototypeOf(it); return [Object.prototype.toString.call(it), it[Symbol.iterator]() === it, Object.getPrototypeOf(proto) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())), typeof proto.next]`,
  'forEach is live and passes value, name, object': `const p = new URLSearchParams('a=1&b=2'); const seen = []; p.forEach(function (value, name, object) { seen.push([value, name, object === p, this.t]); if (name === 'a') p.append('c', '3'); }, { t: 'this' }); return seen`,
  'forEach needs a function': `return new URLSearchParams('a=1').forEach(1)`,

  // A URL and its searchParams.
  'searchParams is the same object each time': `const u = new URL('https://a.example/?x=1'); return u.searchParams === u.searchParams`,
  'changing searchParams changes the URL': `const u = new URL('https://a.example/p?x=1#h'); u.searchParams.append('y', 'a b'); const r = [u.href, u.search]; u.searchParams.delete('x'); u.searchParams.delete('y'); r.push(u.href, u.search); return r`,
  'changing search changes searchParams': `const u = new URL('https://a.example/?x=1'); const p = u.searchParams; u.search = '?y=2&z=3'; const r = [[...p]]; u.search = ''; r.push([...p], u.href); return r`,
  'changing href changes searchParams': `const u = new URL('https://a.example/?x=1'); const p = u.searchParams; u.href = 'https://b.example/?k=v'; const r = [[...p]]; u.href = 'https://c.example/'; r.push([...p]); return r`,
  'a query set before searchParams is read': `const u = new URL('https://a.example/'); u.search = 'q=1&r=2'; return [...u.searchParams]`,
  'sort through searchParams': `const u = new URL('https://a.example/?b=2&a=1'); u.searchParams.sort(); return u.href`,
  'an opaque-path URL': `const u = new URL('mailto:someone@example.com?subject=hi'); u.searchParams.set('body', 'x y'); return [u.href, u.pathname, u.origin]`,

  // URL's own interface.
  'components': `const u = new URL('https://user:pa%20ss@EXAMPLE.com:8443/a/../b/c?q=1#frag'); return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, String(u), u.toJSON(), JSON.stringify({ u })]`,
  'relative with a base': `return [new URL('../x?y#z', 'http://h.example/a/b/c').href, new URL('//other.example/p', 'https://h.example/').href, new URL('', 'https://h.example/a?b#c').href]`,
  'invalid URL and invalid base throw TypeError': `const r = []; for (const f of [() => new URL('nope'), () => new URL('/a', 'nope'), () => new URL('http://[::1')]) { try { f(); r.push('ok') } catch (e) { r.push(e.name) } } return r`,
  'no arguments throws': `return new URL()`,
  'called without new throws': `return URL('https://a.example/')`,
  'URL.parse and URL.canParse': `return [URL.parse('https://a.example/x').href, URL.parse('nope'), URL.parse('/p', 'https://a.example/q').href, URL.canParse('https://a.example/'), URL.canParse('x'), URL.canParse('x', 'https://a.example/'), URL.parse('https://a.example/') instanceof URL]`,
  'URL.parse gives separate objects': `const a = URL.parse('https://a.example/?x=1'); const b = URL.parse('https://a.example/?x=1'); a.searchParams.set('x', '2'); return [a.href, b.href]`,
  'URL.parse and canParse need an argument': `const r = []; for (const f of [() => URL.parse(), () => URL.canParse()]) { try { f(); r.push('ok') } catch (e) { r.push(e.name) } } return r`,
  'setters': `const u = new URL('http://a.example/'); u.protocol = 'https'; u.username = 'ü'; u.password = 'p w'; u.host = 'b.example:81'; u.hostname = 'c.example'; u.port = '8080'; u.pathname = '/x y/%2e/z'; u.search = '?a=b c'; u.hash = 'frag ment'; const r = [u.href]; u.port = ''; u.hash = ''; r.push(u.href); return r`,
  'a failing href setter throws and keeps the URL': `const u = new URL('https://a.example/'); try { u.href = 'nope' } catch (e) { return [e.name, u.href] }`,
  'setters convert with toString and U+FFFD': `const u = new URL('https://a.example/'); u.pathname = { toString() { return '/p\\uD800' } }; u.hash = 42; return u.href`,
  'a getter on the wrong receiver throws': `return Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({})`,
  'toString on the wrong receiver throws': `return URL.prototype.toString.call({ href: 'x' })`,

  // Web IDL's observable shape.
  'names, lengths and tags': `return [URL.name, URLSearchParams.name, URL.length, URLSearchParams.length, URL.parse.length, URL.canParse.length, ['append', 'delete', 'get', 'getAll', 'has', 'set', 'sort', 'toString', 'forEach', 'entries', 'keys', 'values'].map((m) => URLSearchParams.prototype[m].length), Object.prototype.toString.call(new URL('https://a.example/')), Object.prototype.toString.call(new URLSearchParams())]`,
  'accessors live on the prototype': `const u = new URL('https://a.example/'); return [Object.keys(u), Object.getOwnPropertyNames(u), typeof Object.getOwnPropertyDescriptor(URL.prototype, 'href').set, typeof Object.getOwnPropertyDescriptor(URL.prototype, 'origin').set, typeof Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'size').get]`,
  'subclassing works': `class My extends URL { get kind() { return 'mine' } } const m = new My('https://a.example/a'); class P extends URLSearchParams {} const p = new P('a=1'); return [m.kind, m.pathname, m instanceof URL, p.get('a'), p instanceof URLSearchParams]`,
};

for (const [name, code] of Object.entries(snippets)) {
  t.test(name, async (t) => {
    t.same(inIsolate(code), await inNode(code), code);
  });
}

// Each in an isolate of its own, where no URL so far needed whatwg-url's parser: simple URLs are
// answered by the fast path's serializers (runtime/url/url.ts, simpleFirst) until something loads it.
const firstUses: Record<string, string> = {
  'every getter of a simple URL': `const u = new URL('https://api.example.com:8443/v1/items?q=1&r=a+b#top'); return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, [...u.searchParams], u.toString(), u.toJSON()]`,
  'a default port and an empty path': `const u = new URL('http://example.com:80'); return [u.href, u.host, u.port, u.pathname, u.origin, u.search, u.hash]`,
  'a base that a scheme:// input does not read': `return [new URL('https://a.test/x?', 'https://b.test/y').href, new URL('wss://a.test/#', new URL('https://c.test/')).href]`,
  'setters that keep the record simple, then ones that parse': `const u = new URL('https://a.test/p?x=1#f'); u.port = ''; u.search = ''; const r = [u.href]; u.searchParams.append('q', 'é ü'); r.push(u.href); u.username = 'me'; u.password = 'p w'; r.push(u.href, u.origin); u.pathname = '/a/../b'; u.hash = 'h h'; u.port = '8080'; r.push(u.href, u.host); return r`,
  'a simple URL, then one the fast path does not take': `const a = new URL('https://a.test/x?y#z'); const b = new URL('HTTP://B.test/./c/../d'); return [a.href, b.href, a.pathname, b.pathname, a.origin, new URL('/e', a).href, new URL('//f.test', b).href]`,
  'a relative URL first': `return [new URL('../x?y', 'https://a.test/b/c').href, new URL('https://a.test/z').href]`,
  'an invalid URL first': `try { new URL('https://a b/') } catch (e) { return [e.name, new URL('https://a.test/ok').href] }`,
  'Request and Response.redirect': `return [new Request('https://a.test/p?q').url, Response.redirect('https://b.test/r#h', 302).headers.get('location')]`,
  'URLSearchParams alone': `const p = new URLSearchParams('a=1&b=%C3%A9'); p.append('c', 'x y'); return [p.get('b'), p.toString(), new URL('https://a.test/?k=%zz').searchParams.get('k')]`,
};

for (const [name, code] of Object.entries(firstUses)) {
  t.test(`first use in an isolate: ${name}`, async (t) => {
    const fresh = await Evaluator.create();
    t.teardown(() => fresh.dispose());
    t.same(inIsolate(code, fresh), await inNode(code), code);
  });
}

t.test('a URLSearchParams body is sent as a form, from its list at that moment', async (t) => {
  t.same(
    ev.run(`
      const params = new URL('https://a.example/?a=1&b=x y').searchParams;
      const form = new Request('https://a.example/', { method: 'POST', body: params });
      params.append('late', '1');
      return [form.headers.get('content-type'), await form.text()];
    `),
    ['application/x-www-form-urlencoded;charset=UTF-8', 'a=1&b=x+y'],
  );
});

t.test('the runtime keeps working when tenant code replaces the globals and Array methods', async (t) => {
  t.same(
    ev.run(`
      const { URL: Original, URLSearchParams: OriginalParams } = globalThis;
      const { push, splice, sort } = Array.prototype;
      globalThis.URL = function () { throw new Error('replaced') };
      Array.prototype.push = () => { throw new Error('push replaced') };
      Array.prototype.splice = () => { throw new Error('splice replaced') };
      Array.prototype.sort = () => { throw new Error('sort replaced') };
      try {
        const p = new OriginalParams('b=1&a=2&a=3');
        p.append('c', '4'); p.set('a', '5'); p.delete('b'); p.sort();
        const u = new Original('https://a.example/x?y=1');
        u.searchParams.delete('y');
        const other = new Request('https://b.example/p?q=1');
        return [p.toString(), u.href, other.url, new Response(null, { status: 302, headers: { location: '/x' } }).status];
      } finally {
        Object.assign(Array.prototype, { push, splice, sort });
        globalThis.URL = Original;
      }
    `),
    ['a=5&c=4', 'https://a.example/x', 'https://b.example/p?q=1', 302],
  );
});

import t from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('names are case-insensitive, values combine with ", "', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers({ 'Content-Type': 'text/plain' });
      h.append('X-Multi', 'a');
      h.append('x-multi', 'b');
      return [h.get('content-type'), h.get('CONTENT-TYPE'), h.get('x-MULTI'), h.has('X-Multi'), h.get('missing')];
    `),
    ['text/plain', 'text/plain', 'a, b', true, null],
  );
});

t.test('set replaces every value; delete removes all', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers([['a', '1'], ['b', '2'], ['A', '3']]);
      h.set('a', '4');
      const afterSet = [...h];
      h.delete('B');
      return [afterSet, [...h]];
    `),
    [
      [
        ['a', '4'],
        ['b', '2'],
      ],
      [['a', '4']],
    ],
  );
});

t.test('iteration is sorted, lower-cased, combined, with set-cookie kept apart', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers();
      h.append('Zeta', 'z');
      h.append('Set-Cookie', 'a=1');
      h.append('alpha', 'x');
      h.append('set-cookie', 'b=2');
      h.append('Alpha', 'y');
      return { entries: [...h.entries()], keys: [...h.keys()], values: [...h.values()], cookies: h.getSetCookie(),
               get: h.get('set-cookie') };
    `),
    {
      entries: [
        ['alpha', 'x, y'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['zeta', 'z'],
      ],
      keys: ['alpha', 'set-cookie', 'set-cookie', 'zeta'],
      values: ['x, y', 'a=1', 'b=2', 'z'],
      cookies: ['a=1', 'b=2'],
      get: 'a=1, b=2',
    },
  );
});

t.test('forEach passes (value, name, headers) and sees changes made during the loop', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers({ b: '2', a: '1' });
      const seen = [];
      h.forEach(function (value, name, headers) {
        seen.push([name, value, headers === h, this.tag]);
        if (name === 'a') h.append('c', '3');
      }, { tag: 'T' });
      return seen;
    `),
    [
      ['a', '1', true, 'T'],
      ['b', '2', true, 'T'],
      ['c', '3', true, 'T'],
    ],
  );
});

t.test('values are trimmed of HTTP whitespace', async (t) => {
  t.equal(ev.run(`return new Headers({ a: ' \\t x y \\n' }).get('a')`), 'x y');
});

t.test('invalid names and values throw TypeError', async (t) => {
  for (const code of [
    `new Headers({ 'bad name': 'x' })`,
    `new Headers({ '': 'x' })`,
    `new Headers({ 'a': 'x\\ny' })`,
    `new Headers({ 'a': 'x\\ry' })`,
    `new Headers({ 'a': 'x\\0y' })`,
    `new Headers({ 'a': '\\u0100' })`,
    `new Headers({ 'ä': 'x' })`,
    `new Headers([['a']])`,
    `new Headers([['a', 'b', 'c']])`,
    `new Headers('a: b')`,
    `new Headers().get('bad name')`,
    `new Headers().append('a', 'b\\nc')`,
  ]) {
    t.throws(() => ev.run(code), { name: 'TypeError' }, code);
  }
});

t.test('init forms: record, sequence, Headers, null', async (t) => {
  t.same(
    ev.run(`
      const fromHeaders = new Headers(new Headers({ x: '1' }));
      const fromMap = new Headers(new Map([['y', '2']]));
      const withNumber = new Headers({ n: 42 });
      const empty = new Headers(null);
      return [fromHeaders.get('x'), fromMap.get('y'), withNumber.get('n'), [...empty].length];
    `),
    ['1', '2', '42', 0],
  );
});

t.test('Response.error() and Response.redirect() headers are immutable', async (t) => {
  for (const target of ['Response.error().headers', "Response.redirect('https://example.com/').headers"]) {
    t.throws(() => ev.run(`${target}.set('a', 'b')`), { name: 'TypeError' }, target);
    t.throws(() => ev.run(`${target}.append('a', 'b')`), { name: 'TypeError' }, target);
    t.throws(() => ev.run(`${target}.delete('location')`), { name: 'TypeError' }, target);
  }
  t.equal(ev.run(`return Response.redirect('https://example.com/x').headers.get('location')`), 'https://example.com/x');
});

t.test('the received request has immutable headers; copies are mutable', async (t) => {
  t.throws(() => ev.run(`request.headers.set('a', 'b')`), { name: 'TypeError' });
  t.throws(() => ev.run(`request.clone().headers.set('a', 'b')`), { name: 'TypeError' });
  t.equal(ev.run(`const r = new Request('https://x/', { headers: request.headers }); r.headers.set('a', 'b'); return r.headers.get('a')`), 'b');
  t.equal(ev.run(`const h = new Headers(request.headers); h.set('a', 'b'); return h.get('a')`), 'b');
});

t.test('a Headers object looks like one', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers({ a: '1' });
      const it = h[Symbol.iterator]();
      return [Object.prototype.toString.call(h), Headers.name, typeof it.next, it[Symbol.iterator]() === it,
              Object.prototype.toString.call(it), Object.keys(h).length, JSON.stringify(h)];
    `),
    ['[object Headers]', 'Headers', 'function', true, '[object Headers Iterator]', 0, '{}'],
  );
});

t.test('tenant code cannot reach the internal list', async (t) => {
  t.same(
    ev.run(`
      const h = new Headers({ a: '1' });
      return [Object.getOwnPropertyNames(h).length, Object.getOwnPropertySymbols(h).length,
              Reflect.ownKeys(Headers.prototype).filter((k) => typeof k === 'string').sort()];
    `),
    [0, 0, ['append', 'constructor', 'delete', 'entries', 'forEach', 'get', 'getAll', 'getSetCookie', 'has', 'keys', 'set', 'values']],
  );
});

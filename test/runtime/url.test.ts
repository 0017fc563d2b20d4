import t from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

/** What Node's own WHATWG URL (ada) makes of each input: the reference for the bundled whatwg-url. */
function nodeHref(input: string, base?: string): string | null {
  try {
    return new URL(input, base).href;
  } catch {
    return null;
  }
}

t.test('URL parsing agrees with Node on assorted inputs', async (t) => {
  const inputs = [
    'https://example.com',
    'HTTPS://EXAMPLE.com:443/a/./b/../c?q=1 2#f g',
    'http://example.com:8080/path',
    'http://[::1]:3000/',
    'http://192.168.0.257/',
    'http://0x7f.1/',
    'https://user:pa ss@example.com/',
    'https://example.com/%zz/ä?ä#ä',
    'file:///etc/passwd',
    'data:text/plain,hello world',
    'mailto:someone@example.com',
    'blob:https://example.com/uuid',
    'http://exa mple.com/',
    'http://ex%41mple.com/',
    'http://a..b/',
    'http:/\\example.com\\x',
    'javascript:alert(1)',
    'https://xn--nxasmq6b.com/',
    'https://ÉXAMPLE.com/',
    'https://bücher.example/',
    'https://\u212Aelvin.example/',
    'https://xn--a.example/',
    'https://a\u200Db.example/',
    'https://.example./',
    'not a url',
    '',
  ];
  const results = ev.run(`
    return ${JSON.stringify(inputs)}.map((input) => { try { return new URL(input).href } catch { return null } });
  `) as (string | null)[];
  inputs.forEach((input, i) => t.equal(results[i], nodeHref(input), JSON.stringify(input)));
});

t.test('the ASCII fast path for hosts matches full UTS #46 processing on every ASCII code point', async (t) => {
  const inputs: string[] = [];
  for (let c = 0; c < 128; c++) inputs.push(`http://a${String.fromCharCode(c)}b.example/`, `http://${String.fromCharCode(c)}/`);
  inputs.push('http://XN--ab.example/', 'http://xn--bcher-kva.example/', 'http://Xn--Bcher-Kva.Example/', 'http://foo.xn--/');
  const results = ev.run(`
    return ${JSON.stringify(inputs)}.map((input) => { try { return new URL(input).href } catch { return null } });
  `) as (string | null)[];
  let mismatches = 0;
  inputs.forEach((input, i) => {
    if (results[i] !== nodeHref(input)) {
      mismatches++;
      t.fail(`${JSON.stringify(input)}: isolate ${results[i]} vs node ${nodeHref(input)}`);
    }
  });
  t.equal(mismatches, 0);
});

t.test('relative resolution, components and setters', async (t) => {
  t.same(
    ev.run(`
      const u = new URL('../x?y=1#z', 'https://example.com/a/b/c');
      const parts = [u.href, u.origin, u.protocol, u.host, u.hostname, u.port, u.pathname, u.search, u.hash];
      u.pathname = '/new path';
      u.searchParams.append('k', 'v w');
      u.port = '8443';
      u.hash = '';
      return [parts, u.href, String(u), JSON.stringify(u), u.toJSON()];
    `),
    [
      ['https://example.com/a/x?y=1#z', 'https://example.com', 'https:', 'example.com', 'example.com', '', '/a/x', '?y=1', '#z'],
      'https://example.com:8443/new%20path?y=1&k=v+w',
      'https://example.com:8443/new%20path?y=1&k=v+w',
      '"https://example.com:8443/new%20path?y=1&k=v+w"',
      'https://example.com:8443/new%20path?y=1&k=v+w',
    ],
  );
});

t.test('URL statics and errors', async (t) => {
  t.same(
    ev.run(`return [URL.canParse('https://a.example/'), URL.canParse('nope'), URL.parse('nope'), URL.parse('/p', 'https://a.example/').href]`),
    [true, false, null, 'https://a.example/p'],
  );
  t.throws(() => ev.run(`new URL('nope')`), { name: 'TypeError' });
  t.throws(() => ev.run(`new URL('/relative')`), { name: 'TypeError' });
});

t.test('URLSearchParams basics', async (t) => {
  t.same(
    ev.run(`
      const p = new URLSearchParams('?b=2&a=1&a=3&c=%20x+y');
      const out = [p.get('a'), p.getAll('a'), p.has('b'), p.has('a', '3'), p.get('c'), p.get('none'), p.size];
      p.delete('b');
      p.set('a', 'é');
      p.sort();
      out.push(p.toString(), [...p], [...new URLSearchParams({ x: '1', y: '2' }).keys()],
               new URLSearchParams([['k', 'v']]).toString(), Object.prototype.toString.call(p));
      return out;
    `),
    [
      '1',
      ['1', '3'],
      true,
      true,
      ' x y',
      null,
      4,
      'a=%C3%A9&c=+x+y',
      [
        ['a', 'é'],
        ['c', ' x y'],
      ],
      ['x', 'y'],
      'k=v',
      '[object URLSearchParams]',
    ],
  );
});

t.test('URL globals are ordinary, named, replaceable properties', async (t) => {
  t.same(
    ev.run(`
      const d = Object.getOwnPropertyDescriptor(globalThis, 'URL');
      return [URL.name, URLSearchParams.name, typeof d.value, d.writable, d.enumerable, new URL('https://a.example/') instanceof URL];
    `),
    ['URL', 'URLSearchParams', 'function', true, false, true],
  );
});

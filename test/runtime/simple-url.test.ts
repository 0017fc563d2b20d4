/**
 * The URL parser's fast path (runtime/url/simple-url.ts) against whatwg-url's full parser, in Node with
 * the real tr46: every input the fast path takes must give the record the full parser gives, over the
 * WPT inputs and a generated cross product of schemes, hosts, ports, paths, queries and fragments. The
 * same for the urlencoded parser's (runtime/url/simple-urlencoded.ts), over generated query strings.
 * Through the runtime, test/wpt covers the URL class itself.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t, { type Test } from 'tap';

// Imported by a computed path: the runtime's files are type-checked with runtime/tsconfig.json (newer lib).
const simpleUrl = join(import.meta.dirname, '..', '..', 'runtime', 'url', 'simple-url.ts');
const { parseSimpleURL, serializeSimpleURL, serializeSimplePath, serializeSimpleOrigin, setSimple } = (await import(simpleUrl)) as {
  parseSimpleURL(input: string, base?: object): object | null;
  setSimple(url: object, input: string, stateOverride: string): boolean;
  serializeSimpleURL(url: object, excludeFragment?: boolean): string;
  serializeSimplePath(url: object): string;
  serializeSimpleOrigin(url: object): string;
};

const machine = createRequire(import.meta.url)('whatwg-url/lib/url-state-machine.js') as {
  basicURLParse(input: string, options?: object): unknown;
  serializeURL(url: unknown, excludeFragment?: boolean): string;
  serializePath(url: unknown): string;
  serializeURLOrigin(url: unknown): string;
};
const urlencoded = createRequire(import.meta.url)('whatwg-url/lib/urlencoded.js') as {
  parseUrlencodedString(input: string): unknown;
  serializeUrlencoded(tuples: [string, string][]): string;
};
const simpleUrlencoded = join(import.meta.dirname, '..', '..', 'runtime', 'url', 'simple-urlencoded.ts');
const { parseSimpleUrlencoded, serializeSimpleUrlencoded } = (await import(simpleUrlencoded)) as {
  parseSimpleUrlencoded(input: string): unknown;
  serializeSimpleUrlencoded(tuples: [string, string][]): string | null;
};

const wptInputs = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'wpt', 'url', 'resources', 'urltestdata.json'), 'utf8')) as unknown[])
  .filter((c): c is { input: string } => typeof c === 'object' && c !== null && typeof (c as { input?: unknown }).input === 'string')
  .map((c) => c.input);

const schemes = ['http', 'https', 'ws', 'wss', 'ftp', 'file', 'HTTP', 'foo', 'h'];
const hosts = ['example.com', 'localhost', 'a', 'a-b.c-d', 'x1.y2', 'a.b.c.d.e', '1.2.3.4', 'a.1', 'a.0x1f', 'a.0x', 'a.1a', 'a.0x1g', 'a.08',
  '127.0.0.1', '0.0.0.0', '10.0.0.255', '255.255.255.255', '256.0.0.1', '1.2.3.256', '01.2.3.4', '1.2.3.04', '1.2.3.00', '1.2.3', '1.2.3.4.5',
  '1.2.3.4.', '.1.2.3.4', '1..2.3', '0x7f.0.0.1', '1.2.3.0x4', '1234.1.1.1', '4294967295', '1.2.3.4a', 'a.1.2.3.4',
  'xn--nxasmq6b.com', 'a--b.com', '-a.com', 'a-.com', 'a..b', '.a', 'a.', 'EXAMPLE.com', 'user@a.com', 'u:p@a.com', '[::1]', 'ex%41mple.com', 'ex ample.com', ''];
const ports = ['', ':', ':0', ':80', ':443', ':8080', ':080', ':65535', ':65536', ':99999', ':123456', ':1a'];
const paths = ['', '/', '//', '/a', '/a/', '/a/b/c', '/a//b', '/./a', '/a/.', '/a/..', '/a/../b', '/%2e/a', '/a/%2E%2e', '/.a/b.', '/..a',
  '/%41%zz', '/~user/@x:y;z=1,2', "/a'b", '/a b', '/a"b', '/a<b>', '/a`b', '/a{b}', '/a|b', '/a\\b', '/a^b', '/é', '/a\tb', '/a?b'];
const queries = ['', '?', '?a=1&b=2', '?q=x/y?z', "?a'b", '?a b', '?a"b', '?%', '?a=é', '?a#'];
const fragments = ['', '#', '#f', '#a/b?c', "#a'b", '#a#b', '#a b', '#a`b', '#é'];

function* generated(): Generator<string> {
  for (const scheme of schemes) for (const host of hosts) for (const port of ports) for (const path of paths) {
    yield `${scheme}://${host}${port}${path}`;
  }
  for (const path of paths) for (const query of queries) for (const fragment of fragments) yield `https://example.com${path}${query}${fragment}`;
  for (const input of ['http://example.com', ' http://example.com/', 'http://example.com/ ', 'http:/example.com/', 'http:example.com/', 'http:\\\\example.com/']) yield input;
}

/** Runs `fast` and, where it answers, `full` on every input: they must agree, on at least `minTaken` inputs. */
function agreeWhereTaken(t: Test, inputs: Iterable<string>, fast: (input: string) => unknown, full: (input: string) => unknown, minTaken: number): void {
  let taken = 0;
  let checked = 0;
  const mismatches: string[] = [];
  for (const input of inputs) {
    checked++;
    const quick = fast(input);
    if (quick === null) continue;
    taken++;
    const reference = full(input);
    if (JSON.stringify(quick) !== JSON.stringify(reference)) mismatches.push(`${JSON.stringify(input)}: fast ${JSON.stringify(quick)}, full ${JSON.stringify(reference)}`);
  }
  t.same(mismatches.slice(0, 20), [], `no mismatch (${mismatches.length})`);
  t.ok(taken > minTaken, `the fast path took ${taken} of ${checked} inputs`);
}

t.test('every input the fast path takes parses to the same record as whatwg-url', (t) => {
  agreeWhereTaken(t, [...wptInputs, ...generated()], parseSimpleURL, (input) => machine.basicURLParse(input), 1000);
  t.end();
});

t.test("the fast path's serializers give whatwg-url's strings for every record it makes", (t) => {
  const serialized = (serialize: (url: object) => unknown) => (input: string) => {
    const record = parseSimpleURL(input);
    return record === null ? null : serialize(record);
  };
  const cases: [string, (url: object) => unknown, (url: object) => unknown][] = [
    ['href', serializeSimpleURL, (url) => machine.serializeURL(url)],
    ['href without fragment', (url) => serializeSimpleURL(url, true), (url) => machine.serializeURL(url, true)],
    ['path', serializeSimplePath, (url) => machine.serializePath(url)],
    ['origin', serializeSimpleOrigin, (url) => machine.serializeURLOrigin(url)],
  ];
  for (const [what, fast, full] of cases) {
    t.test(what, (t) => {
      agreeWhereTaken(t, [...wptInputs, ...generated()], serialized(fast), (input) => full(machine.basicURLParse(input) as object), 1000);
      t.end();
    });
  }
  t.end();
});

t.test('every path-absolute reference the fast path takes against a base parses to the same record as whatwg-url', (t) => {
  const bases = ['https://example.com/a/b?q#f', 'http://127.0.0.1:8080/x', 'ws://a.b:81/', 'https://EXAMPLE.com:443', 'https://u:p@example.com/',
    'https://u@example.com/', 'http://[::1]/', 'ftp://f.example/', 'file:///etc/x', 'foo://bar/baz', 'sc:opaque', 'https://xn--nxasmq6b.com/']
    .map((input) => machine.basicURLParse(input) as object);
  const inputs = ['', '/', '//', '//x/y', '/\\x', '\\x', '?q', '#f', 'a/b', './a', '../a', 'http://a.com/'];
  for (const path of paths) for (const query of queries) for (const fragment of fragments) inputs.push(`${path}${query}${fragment}`);
  let taken = 0;
  const mismatches: string[] = [];
  for (const base of bases) {
    for (const input of inputs) {
      const quick = parseSimpleURL(input, base);
      if (quick === null) continue;
      taken++;
      const reference = machine.basicURLParse(input, { baseURL: base });
      if (JSON.stringify(quick) !== JSON.stringify(reference)) mismatches.push(`${JSON.stringify(input)} against ${machine.serializeURL(base)}: fast ${JSON.stringify(quick)}, full ${JSON.stringify(reference)}`);
    }
  }
  t.same(mismatches.slice(0, 20), [], `no mismatch (${mismatches.length})`);
  t.ok(taken > 1000, `the fast path took ${taken} of ${bases.length * inputs.length} pairs`);
  const base = machine.basicURLParse('https://example.com/app/page?x=1') as object;
  t.same(parseSimpleURL('/login?next=%2Fapp', base), {
    scheme: 'https', username: '', password: '', host: 'example.com', port: null, path: ['login'], query: 'next=%2Fapp', fragment: null,
  });
  for (const other of ['//evil.example/', '/\\evil.example/', 'login', '/a/../b']) t.equal(parseSimpleURL(other, base), null, `${other} goes to whatwg-url`);
  t.end();
});

t.test("every setter's parse setSimple takes leaves the record whatwg-url's parse would", (t) => {
  // The setters' own first steps (url-classes.ts), then the parse with a state override.
  const setters: [string, (url: Record<string, unknown>) => void][] = [
    ['hostname', () => {}],
    ['port', () => {}],
    ['path start', (url) => (url.path = [])],
    ['query', (url) => (url.query = '')],
    ['fragment', (url) => (url.fragment = '')],
  ];
  const bases = ['https://example.com/a/b?q#f', 'http://127.0.0.1:8080/x', 'ws://a.b:81/', 'wss://c.d/e/f/', 'http://h.example'];
  const values = [...hosts, ...ports.map((p) => p.slice(1)), ...paths, ...paths.map((p) => p.slice(1)), ...queries.map((q) => q.slice(1)),
    ...fragments.map((f) => f.slice(1)), '', '0', '80', '443', '8080x', '1:2', 'a.com:81', 'a.com/x', 'a.com?x', 'a?b', 'a#b', ' a', 'a\\b'];
  let taken = 0;
  const mismatches: string[] = [];
  for (const baseInput of bases) {
    for (const [stateOverride, firstSteps] of setters) {
      for (const value of values) {
        const fast = machine.basicURLParse(baseInput) as Record<string, unknown>;
        firstSteps(fast);
        if (!setSimple(fast, value, stateOverride)) continue;
        taken++;
        const full = machine.basicURLParse(baseInput) as Record<string, unknown>;
        firstSteps(full);
        machine.basicURLParse(value, { url: full, stateOverride });
        if (JSON.stringify(fast) !== JSON.stringify(full)) mismatches.push(`${stateOverride} ${JSON.stringify(value)} on ${baseInput}: fast ${JSON.stringify(fast)}, full ${JSON.stringify(full)}`);
      }
    }
  }
  t.same(mismatches.slice(0, 20), [], `no mismatch (${mismatches.length})`);
  t.ok(taken > 500, `setSimple took ${taken} of ${bases.length * setters.length * values.length}`);
  const url = machine.basicURLParse('https://example.com/a') as Record<string, unknown>;
  t.equal(setSimple(url, 'a.com:81', 'hostname'), false, 'a hostname with a port goes to whatwg-url');
  t.equal(setSimple(url, 'x?y', 'path start'), false, 'a path with a character to encode goes to whatwg-url');
  t.equal(setSimple(url, '/../x', 'path start'), false, 'and one with a dot segment');
  t.equal(setSimple(url, 'https:', 'scheme start'), false, 'the protocol setter always does');
  t.end();
});

t.test('the common forms take the fast path', (t) => {
  for (const input of ['http://a.localhost/', 'https://example.com/api/users/42?q=1&sort=desc', 'https://api.example.com:8443/v1/items#top', 'ws://chat.example/socket']) {
    t.not(parseSimpleURL(input), null, input);
  }
  t.same(parseSimpleURL('https://example.com:443/a/b?x=1#y'), {
    scheme: 'https', username: '', password: '', host: 'example.com', port: null, path: ['a', 'b'], query: 'x=1', fragment: 'y',
  });
  // An IPv4 address written plainly, as an internal upstream often is: whatwg-url's record keeps it as a number.
  t.same(parseSimpleURL('http://127.0.0.1:8080/v1/items'), {
    scheme: 'http', username: '', password: '', host: 2130706433, port: 8080, path: ['v1', 'items'], query: null, fragment: null,
  });
  t.equal(serializeSimpleOrigin(parseSimpleURL('http://10.1.2.255:8080/')!), 'http://10.1.2.255:8080');
  for (const spelling of ['http://127.1/', 'http://0x7f.0.0.1/', 'http://127.0.0.01/', 'http://127.0.0.1./']) t.equal(parseSimpleURL(spelling), null, `${spelling} goes to whatwg-url`);
  t.end();
});

t.test('every query the urlencoded fast path takes parses to the same list as whatwg-url', (t) => {
  // Every string of up to 4 characters from this alphabet, and longer ones made of those pieces.
  const alphabet = ['a', 'B', '=', '&', '+', ' ', '%', '%4', '%41', '%2B', '%C3%A9', '%c3', '%A9', '%ED%A0%80', '%EF%BB%BF', '%F0%9F%98%80', '%zz', '%00', '\t', '\u007f', 'é', '\u{1F600}', '?', '\ufeff', ''];
  const inputs = new Set<string>();
  const grow = (prefix: string, depth: number) => {
    inputs.add(prefix);
    if (depth < 4) for (const piece of alphabet) grow(prefix + piece, depth + 1);
  };
  grow('', 0);
  for (const input of [...inputs].slice(0, 2000)) inputs.add(`${input}&name=${input}&&x+y=${input}`);
  agreeWhereTaken(t, inputs, parseSimpleUrlencoded, (input) => urlencoded.parseUrlencodedString(input), 5000);
  t.same(parseSimpleUrlencoded('q=1&sort=a+b&&flag&=x'), [['q', '1'], ['sort', 'a b'], ['flag', ''], ['', 'x']]);
  t.same(parseSimpleUrlencoded('q=%20a%2Bb+c&%C3%A9=%F0%9F%98%80'), [['q', ' a+b c'], ['é', '😀']], 'percent-encoded UTF-8');
  t.equal(parseSimpleUrlencoded('q=%zz'), null, 'a "%" without two hex digits: the full parser');
  t.equal(parseSimpleUrlencoded('q=%C3'), null, 'escapes that are not UTF-8: the full parser');
  t.equal(parseSimpleUrlencoded('q=é'), null, 'not ASCII: the full parser');
  t.end();
});

t.test('a query too long to decode in one uninterruptible call goes to whatwg-url', (t) => {
  t.not(parseSimpleUrlencoded(`a=${'%41'.repeat(20_000)}`), null, '60 KB: the fast path');
  t.equal(parseSimpleUrlencoded(`a=${'%41'.repeat(30_000)}`), null, '90 KB: whatwg-url\'s parser, which the CPU limit can stop');
  t.end();
});

t.test('the urlencoded serializer\'s fast path writes what whatwg-url writes, for every ASCII name and value', (t) => {
  // Every ASCII character alone, and pieces that mix the safe set, spaces and escapes, plus non-ASCII ones it leaves to whatwg-url.
  const parts = ['', ...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)), 'a b', 'a+b', 'a=b&c', '~!*\'()', 'x%20y', 'A-z_0.9*', 'é', 'a\u{1F600}', '\ud800'];
  let taken = 0;
  const mismatches: string[] = [];
  const check = (tuples: [string, string][]) => {
    const fast = serializeSimpleUrlencoded(tuples);
    if (fast === null) return;
    taken++;
    const full = urlencoded.serializeUrlencoded(tuples);
    if (fast !== full) mismatches.push(`${JSON.stringify(tuples)}: fast ${JSON.stringify(fast)}, full ${JSON.stringify(full)}`);
  };
  check([]);
  for (const name of parts) for (const value of parts) check([[name, value]]);
  for (let i = 0; i < parts.length; i++) check([[parts[i]!, parts[(i * 7) % parts.length]!], [parts[(i * 3) % parts.length]!, parts[i]!], ['k', 'v']]);
  t.same(mismatches.slice(0, 20), [], `no mismatch (${mismatches.length})`);
  t.ok(taken > 15000, `the fast path took ${taken} lists`);
  t.equal(serializeSimpleUrlencoded([['q', 'é']]), null, 'non-ASCII goes to whatwg-url');
  t.equal(serializeSimpleUrlencoded([['a b', "c'd~"]]), 'a+b=c%27d%7E');
  t.end();
});

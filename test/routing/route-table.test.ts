import t from 'tap';
import { RouteTable } from '../../src/routing/route-table.ts';
import type { Route } from '../../src/types.ts';

function table(...patterns: string[]): RouteTable {
  return new RouteTable(patterns.map((pattern, i) => ({ pattern, worker: `w${i}` })));
}

/** The pattern that serves host + path, or null. */
function winner(routes: RouteTable, host: string, path = '/'): string | null {
  return routes.match(host, path)?.pattern ?? null;
}

t.test('the examples from the brief', async (t) => {
  t.equal(winner(table('*.example.com/*', 'www.example.com/*'), 'www.example.com'), 'www.example.com/*');
  t.equal(winner(table('www.example.com/*', '*.example.com/*'), 'www.example.com'), 'www.example.com/*');
  t.equal(winner(table('example.com/*', 'example.com/api/*'), 'example.com', '/api/x'), 'example.com/api/*');
  t.equal(winner(table('example.com/api/*', 'example.com/*'), 'example.com', '/api/x'), 'example.com/api/*');
  t.equal(winner(table('example.com/*', 'example.com/hello/*'), 'example.com', '/other'), 'example.com/*');
});

t.test('*.example.com matches subdomains only', async (t) => {
  const routes = table('*.example.com/*');
  t.equal(winner(routes, 'example.com'), null);
  t.equal(winner(routes, 'a.example.com'), '*.example.com/*');
  t.equal(winner(routes, 'a.b.example.com'), '*.example.com/*');
  t.equal(winner(routes, 'badexample.com'), null);
  t.equal(winner(routes, 'example.com.evil.net'), null);
});

t.test('*example.com matches the apex and subdomains, whole labels only', async (t) => {
  const routes = table('*example.com/*');
  t.equal(winner(routes, 'example.com'), '*example.com/*');
  t.equal(winner(routes, 'a.example.com'), '*example.com/*');
  t.equal(winner(routes, 'a.b.example.com'), '*example.com/*');
  t.equal(winner(routes, 'badexample.com'), null, 'another tenant’s domain is not captured');
  t.equal(winner(routes, 'example.com.evil.net'), null);
  t.equal(winner(routes, 'com'), null);
});

t.test('exact host beats every wildcard; longer wildcard suffix wins', async (t) => {
  const patterns = ['*/*', '*example.com/*', '*.example.com/*', '*a.example.com/*', '*.a.example.com/*', 'x.a.example.com/*'];
  const routes = table(...patterns);
  t.equal(winner(routes, 'x.a.example.com'), 'x.a.example.com/*');
  t.equal(winner(routes, 'y.a.example.com'), '*.a.example.com/*');
  t.equal(winner(routes, 'a.example.com'), '*a.example.com/*');
  t.equal(winner(routes, 'b.example.com'), '*.example.com/*');
  t.equal(winner(routes, 'example.com'), '*example.com/*');
  t.equal(winner(routes, 'other.net'), '*/*');
  t.equal(winner(routes, '[::1]'), '*/*');
  // Input order does not matter.
  const reversed = table(...patterns.toReversed());
  for (const host of ['x.a.example.com', 'y.a.example.com', 'a.example.com', 'b.example.com', 'example.com', 'x.net']) {
    t.equal(winner(reversed, host), winner(routes, host), host);
  }
});

t.test('a more specific host wins over a longer path, as on Cloudflare', async (t) => {
  const routes = table('*.example.com/a', 'a.example.com/*');
  t.equal(winner(routes, 'a.example.com', '/a'), 'a.example.com/*');
});

t.test('when no path of a host matches, a less specific host is tried', async (t) => {
  const routes = table('www.example.com/api/*', '*.example.com/*', '*/static/*');
  t.equal(winner(routes, 'www.example.com', '/api/v1'), 'www.example.com/api/*');
  t.equal(winner(routes, 'www.example.com', '/home'), '*.example.com/*');
  t.equal(winner(table('www.example.com/api/*', '*/static/*'), 'www.example.com', '/static/x'), '*/static/*');
  t.equal(winner(table('www.example.com/api/*'), 'www.example.com', '/home'), null);
});

t.test('paths: longest prefix wins, exact beats wildcard at equal prefix, prefix is literal', async (t) => {
  const routes = table(
    'example.com/*',
    'example.com/images*',
    'example.com/images/*',
    'example.com/images/logo.png',
    'example.com/images',
  );
  t.equal(winner(routes, 'example.com', '/images/logo.png'), 'example.com/images/logo.png');
  t.equal(winner(routes, 'example.com', '/images/logo.pngx'), 'example.com/images/*');
  t.equal(winner(routes, 'example.com', '/images/x'), 'example.com/images/*', 'not Cloudflare’s known issue');
  t.equal(winner(routes, 'example.com', '/images'), 'example.com/images', 'exact beats `/images*`');
  t.equal(winner(routes, 'example.com', '/images123'), 'example.com/images*');
  t.equal(winner(routes, 'example.com', '/'), 'example.com/*');
  t.equal(winner(table('example.com/images/*'), 'example.com', '/images'), null, '`/images/*` needs the slash');
  t.equal(winner(table('example.com/hello'), 'example.com', '/hello/'), null, 'exact means exact');
  t.equal(winner(table('example.com/'), 'example.com', '/x'), null);
  t.equal(winner(table('example.com/'), 'example.com', '/'), 'example.com/');
});

t.test('paths are case-sensitive, hosts are not', async (t) => {
  const routes = table('Example.COM/Api/*');
  t.equal(winner(routes, 'EXAMPLE.com', '/Api/x'), 'Example.COM/Api/*', 'returns the route as given');
  t.equal(winner(routes, 'example.com', '/api/x'), null);
});

t.test('host normalisation: port, trailing dot, IPv6', async (t) => {
  const routes = table('example.com/*', '[::1]/*', '127.0.0.1/*', 'localhost/*');
  t.equal(winner(routes, 'example.com:8080'), 'example.com/*');
  t.equal(winner(routes, 'example.com.'), 'example.com/*');
  t.equal(winner(routes, 'Example.Com.:443'), 'example.com/*');
  t.equal(winner(routes, '[::1]:8080'), '[::1]/*');
  t.equal(winner(routes, '[::1]'), '[::1]/*');
  t.equal(winner(routes, '[0:0::1]:80'), '[::1]/*');
  t.equal(winner(routes, '127.0.0.1:3000'), '127.0.0.1/*');
  t.equal(winner(routes, 'localhost:3000'), 'localhost/*');
  t.equal(winner(routes, ''), null);
  t.equal(winner(routes, '[::1'), null);
  t.equal(winner(routes, '[::1]x'), null);
  t.equal(winner(table('*.example.com/*'), '.example.com'), null, 'empty label');
  t.equal(winner(table('*.example.com/*'), 'a..example.com'), null, 'empty label');
});

t.test('ties go to the first route in the list', async (t) => {
  const routes = new RouteTable([
    { pattern: 'example.com/*', worker: 'first' },
    { pattern: 'EXAMPLE.com', worker: 'second' },
  ]);
  t.equal(routes.match('example.com', '/')?.worker, 'first');
});

t.test('match returns the route object given, and null with no routes', async (t) => {
  const route: Route = { pattern: 'example.com/*', worker: 'site' };
  t.equal(new RouteTable([route]).match('example.com', '/x'), route);
  t.equal(new RouteTable([]).match('example.com', '/'), null);
  t.equal(new RouteTable([route]).size, 1);
});

t.test('the table does not follow later changes to the input array', async (t) => {
  const routes: Route[] = [{ pattern: 'example.com/*', worker: 'a' }];
  const built = new RouteTable(routes);
  routes.push({ pattern: 'other.com/*', worker: 'b' });
  t.equal(built.match('other.com', '/'), null);
});

t.test('an invalid pattern fails the build', async (t) => {
  t.throws(() => table('example.com/*', 'https://x.com/*'), { code: 'ISO_ERR_ROUTE_INVALID' });
});

t.test('paths compare in percent-encoded form, like URL pathnames', async (t) => {
  const routes = table('example.com/café/*');
  t.equal(winner(routes, 'example.com', new URL('http://example.com/café/menu').pathname), 'example.com/café/*');
});

t.test('many hosts stay fast', async (t) => {
  const routes: Route[] = [];
  for (let i = 0; i < 20_000; i++) {
    routes.push({ pattern: `site${i}.example.com/*`, worker: `w${i}` });
    routes.push({ pattern: `*.tenant${i}.example.net/*`, worker: `t${i}` });
  }
  const built = new RouteTable(routes);
  const start = performance.now();
  let hits = 0;
  for (let i = 0; i < 100_000; i++) {
    if (built.match(`a.b.tenant${i % 20_000}.example.net:443`, '/x') !== null) hits++;
  }
  const ms = performance.now() - start;
  t.equal(hits, 100_000);
  t.ok(ms < 2000, `100k wildcard matches over 40k routes took ${ms.toFixed(0)} ms`);
});

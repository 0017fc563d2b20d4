import t from 'tap';
import { parseRoutePattern } from '../../src/routing/route-pattern.ts';

t.test('parses exact, subdomain and apex-and-subdomain hosts', async (t) => {
  t.strictSame(parseRoutePattern('example.com/*'), {
    pattern: 'example.com/*',
    host: 'example.com',
    hostMatch: 'exact',
    pathPrefix: '/',
    pathWildcard: true,
  });
  t.strictSame(parseRoutePattern('*.example.com/api/*'), {
    pattern: '*.example.com/api/*',
    host: 'example.com',
    hostMatch: 'subdomains',
    pathPrefix: '/api/',
    pathWildcard: true,
  });
  t.strictSame(parseRoutePattern('*example.com/hello'), {
    pattern: '*example.com/hello',
    host: 'example.com',
    hostMatch: 'self-and-subdomains',
    pathPrefix: '/hello',
    pathWildcard: false,
  });
});

t.test('a host alone means host/*', async (t) => {
  t.equal(parseRoutePattern('example.com').pattern, 'example.com/*');
  t.equal(parseRoutePattern('*.example.com').pattern, '*.example.com/*');
});

t.test('`*` alone is the catch-all host', async (t) => {
  const parsed = parseRoutePattern('*/*');
  t.equal(parsed.host, '');
  t.equal(parsed.hostMatch, 'self-and-subdomains');
  t.equal(parseRoutePattern('*').pattern, '*/*');
});

t.test('canonical form: host lower-cased, trailing dot dropped, IDN as punycode, path case kept', async (t) => {
  t.equal(parseRoutePattern('WWW.Example.COM/Api/*').pattern, 'www.example.com/Api/*');
  t.equal(parseRoutePattern('example.com./x').pattern, 'example.com/x');
  t.equal(parseRoutePattern('*.Bücher.example/*').pattern, '*.xn--bcher-kva.example/*');
  t.equal(parseRoutePattern('example.com/café').pathPrefix, '/caf%C3%A9');
  t.equal(parseRoutePattern('example.com/a%20b').pathPrefix, '/a%20b', 'existing escapes are kept');
  t.equal(parseRoutePattern('example.com/{x}').pathPrefix, '/%7Bx%7D');
});

t.test('IPv4 and IPv6 hosts', async (t) => {
  t.equal(parseRoutePattern('127.0.0.1/*').host, '127.0.0.1');
  t.equal(parseRoutePattern('[::1]/*').host, '[::1]');
  t.equal(parseRoutePattern('[0:0:0::1]/x').pattern, '[::1]/x', 'IPv6 in canonical form');
  t.equal(parseRoutePattern('[2001:DB8::1]').host, '[2001:db8::1]');
});

const invalid: [pattern: string, rule: RegExp][] = [
  ['', /empty/],
  ['https://example.com/*', /scheme/],
  ['http://example.com', /scheme/],
  ['example.com/*?x=1', /query string/],
  ['example.com/a#b', /fragment/],
  ['example.com:8080/*', /port/],
  ['*.example.com:8080/*', /port/],
  ['[::1]:8080/*', /port/],
  ['[::1/*', /closing/],
  ['[zz::1]/*', /IPv6/],
  ['*[::1]/*', /whole labels/],
  ['ex*ample.com/*', /first character of the host/],
  ['example.*/*', /first character of the host/],
  ['**.example.com/*', /first character of the host/],
  ['*-api.example.com/*', /whole labels/],
  ['*./*', /needs a domain/],
  ['example.com/*.jpg', /last character of the path/],
  ['example.com/a*b', /last character of the path/],
  ['example.com/**', /last character of the path/],
  ['/*', /host is missing/],
  ['exa mple.com/*', /whitespace/],
  ['example.com/a b', /whitespace/],
  ['example.com/a\tb', /whitespace/],
  ['example..com/*', /label "" is not valid/],
  ['-example.com/*', /label "-example" is not valid/],
  ['ex$ample.com/*', /label/],
  [`${'a'.repeat(64)}.com/*`, /label/],
  [`${'abcdefghi.'.repeat(26)}com/*`, /not a valid domain/],
  ['example.com/a/../b', /segments/],
  ['example.com/./*', /segments/],
  ['example.com/a/%2e%2E/b', /segments/],
  ['example.com/a\\b', /not `\\`/],
  ['example.com/\ud800', /Unicode/],
];

t.test('invalid patterns throw ISO_ERR_ROUTE_INVALID naming the rule', async (t) => {
  for (const [pattern, rule] of invalid) {
    t.throws(() => parseRoutePattern(pattern), { code: 'ISO_ERR_ROUTE_INVALID', status: 400, message: rule }, pattern);
  }
});

t.test('a wildcard path may end in a partial dot segment', async (t) => {
  t.equal(parseRoutePattern('example.com/a/.*').pathPrefix, '/a/.');
  t.equal(parseRoutePattern('example.com/a/..*').pathPrefix, '/a/..');
});

t.test('the error carries the pattern for the API body', async (t) => {
  try {
    parseRoutePattern('example.com:80');
    t.fail('should throw');
  } catch (error) {
    t.match(error, { details: { pattern: 'example.com:80' } });
    t.match((error as { toJSON(): unknown }).toJSON(), {
      error: { code: 'ISO_ERR_ROUTE_INVALID', pattern: 'example.com:80' },
    });
  }
});

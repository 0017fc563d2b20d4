/**
 * requestTarget (src/http/request-target.ts) builds the URL of a plain Host and target without the URL
 * parser. Whichever way it goes, its answer must be the WHATWG parser's: every pair of a list of hosts and
 * of targets (plain ones, near misses, and the path-absolute inputs of WPT's URL tests) is held to what
 * the parser makes of `http://<host><target>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { requestTarget } from '../../src/http/request-target.ts';
import { normalizeHost } from '../../src/routing/normalize-host.ts';

/** What the parser makes of it: the URL without a fragment, the routing host, the path. */
function parsed(host: string, target: string) {
  const url = URL.parse(`http://${host}${target}`);
  if (url === null) return { error: 'ISO_ERR_HTTP_TARGET_INVALID' };
  const routing = normalizeHost(url.host);
  if (routing === null) return { error: 'ISO_ERR_HTTP_HOST_INVALID' };
  url.hash = '';
  return { url: url.href, host: routing, path: url.pathname, absoluteHost: null };
}

const HOSTS = [
  'hello.localhost', 'w.localhost', 'a', 'api.example.com', 'api.example.com:8080', 'api.example.com:80', 'api.example.com:443',
  'Api.Example.com', 'example.com.', 'xn--nxasmq6b.com', 'a.xn--nxasmq6b', 'my_worker.localhost', '-a.b-.localhost', 'a1.b2.c3d',
  '1.2.3.4', '127.0.0.1:8080', '0x7f.1', 'a.1', 'a.0x10', '[::1]', '[::1]:8080', 'host:1', 'host:65535',
];

const TARGETS = [
  '/', '/api/users/42', '/api/users/42?q=x&y=1', '/a//b', '//evil.example/x', '/a?b?c', '/a?x=/y', '/~user/a-b_c.d',
  "/!$&()*+,;=:@", '/a.b/c.', '/.', '/..', '/a/./b', '/a/../b', '/a/.%2e/b', '/%2e%2E/x', '/a%20b', '/a b', '/a\\b', '/a|b', '/a^b',
  '/a[b]', '/a{b}', '/a`b', "/a'b", "/a?b'c", '/a"b', '/a<b>', '/a#frag', '/a?b#c', '/é', '/a?é', '/a\tb', '/?', '/??', '/a?',
];

/**
 * WPT's URL test inputs as targets a client could send: each behind a `/` (its odd characters, dot
 * segments and escapes in a path), without the whitespace and controls Node's HTTP parser refuses.
 */
function wptTargets(): string[] {
  const file = join(import.meta.dirname, '..', 'fixtures', 'wpt', 'url', 'resources', 'urltestdata.json');
  const cases = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
  const inputs = cases.flatMap((c) => (typeof c === 'object' && c !== null && typeof (c as { input?: unknown }).input === 'string' ? [(c as { input: string }).input] : []));
  return [...new Set(inputs.map((input) => (input.startsWith('/') ? input : `/${input}`)).filter((target) => !/[\x00-\x20\x7f]/.test(target)))];
}

t.test('every host and target: the URL, host and path the WHATWG parser gives', async (t) => {
  const targets = [...TARGETS, ...wptTargets()];
  t.ok(targets.length > TARGETS.length + 200, `${targets.length} targets, WPT's included`);
  let compared = 0;
  const mismatches: string[] = [];
  for (const host of HOSTS) {
    for (const target of targets) {
      const got = requestTarget(host, target);
      // A Host the server refuses before any URL is made is not the parser's to judge.
      if ('error' in got && got.error === 'ISO_ERR_HTTP_HOST_INVALID') continue;
      compared++;
      const want = parsed(host, target);
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${host} ${target}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
  }
  t.ok(compared > 5000, `${compared} pairs compared`);
  t.same(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
});

t.test('a plain request: its URL as sent, the default port left out', async (t) => {
  t.same(requestTarget('hello.localhost', '/api/users/42?q=x'), { url: 'http://hello.localhost/api/users/42?q=x', host: 'hello.localhost', path: '/api/users/42', absoluteHost: null });
  t.same(requestTarget('api.example.com:80', '/'), { url: 'http://api.example.com/', host: 'api.example.com', path: '/', absoluteHost: null });
  t.same(requestTarget('api.example.com:8080', '/x'), { url: 'http://api.example.com:8080/x', host: 'api.example.com', path: '/x', absoluteHost: null });
});

/**
 * Runtime chunks (src/isolates/runtime-bundle.ts, runtime/chunks.ts) are asked from the host on first
 * use, which can come after tenant code has added enumerable properties to Object.prototype (as old
 * libraries do). Each chunk must still load and work then, and not be asked for before it is needed.
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

const USES: Record<string, string> = {
  'web-streams': `const reader = new ReadableStream({ start(c) { c.enqueue('a'); c.close() } }).getReader(); return (await reader.read()).value;`,
  urlpattern: `return new URLPattern({ pathname: '/users/:id' }).exec('https://x.test/users/42').pathname.groups.id;`,
  fflate: `const out = new Response(new Blob(['hello']).stream().pipeThrough(new CompressionStream('gzip')).pipeThrough(new DecompressionStream('gzip'))); return await out.text();`,
  tr46: `return new URL('https://bücher.example/').hostname;`,
  'whatwg-url': `const u = new URL('../b?q=a b', 'https://x.test/a/c'); return [u.href, new URLSearchParams('a=%20b&c=d+e').get('c')];`,
  'web-crypto': `return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-1', new Uint8Array(0))).slice(0, 3));`,
  'generic-array-methods': `const a = new Array(300000); a[5] = 'x'; return [a.indexOf('x'), Array.prototype.join.call({ length: 2, 0: 'a', 1: 'b' }, '-')];`,
  // The Node.js modules of nodejs_compat, as the host's links read them (src/isolates/builtin-modules.ts).
  'node-buffer': `return builtinModule('node:buffer').Buffer.from('hi').toString('hex');`,
  'node-events': `const emitter = new (builtinModule('node:events').EventEmitter)(); let got; emitter.on('x', (v) => { got = v; }); emitter.emit('x', 7); return got;`,
  'node-path': `return builtinModule('node:path').resolve('a', '../b');`,
  'node-util': `return builtinModule('node:util').format('%s-%d %o', 'a', 1, { b: [2] });`,
  'node-assert': `const assert = builtinModule('node:assert').default; try { assert.deepStrictEqual({ a: 1 }, { a: 1 }); assert.strictEqual(1, 2); } catch (e) { return e.code; }`,
  'node-async-hooks': `const { AsyncLocalStorage } = builtinModule('node:async_hooks'); const storage = new AsyncLocalStorage(); return await storage.run('kept', async () => { await null; return storage.getStore(); });`,
  'node-crypto': `return builtinModule('node:crypto').createHmac('sha1', '').update('x').digest('base64url');`,
  'node-string-decoder': `const decoder = new (builtinModule('node:string_decoder').StringDecoder)('utf8'); const euro = [0xe2, 0x82, 0xac]; return [decoder.write(new Uint8Array(euro.slice(0, 2))), decoder.write(new Uint8Array(euro.slice(2))), decoder.end()];`,
  'node-querystring': `const qs = builtinModule('node:querystring'); const parsed = qs.parse('a=1&a=2&b=%E2%82%AC+x'); return [parsed.a, parsed.b, Object.keys(parsed), qs.stringify({ k: ['x y', 1] }), qs.unescapeBuffer('%41+', true).length];`,
  'node-timers': `const timers = builtinModule('node:timers'); const timeout = timers.setTimeout(() => {}, 1000); timers.clearTimeout(timeout); return [typeof +timeout, timeout.hasRef(), typeof timers.promises.setTimeout];`,
  'node-diagnostics-channel': `const dc = builtinModule('node:diagnostics_channel'); const got = []; dc.subscribe('chunk-test', (m, name) => got.push([m, name])); dc.channel('chunk-test').publish(1); return [got, dc.tracingChannel('chunk-test').traceSync(() => 'traced')];`,
  'node-zlib': `const zlib = builtinModule('node:zlib'); const packed = zlib.gzipSync('zipped twice, zipped twice'); let code; try { zlib.inflateSync(packed); } catch (e) { code = e.code; } return [zlib.gunzipSync(packed).toString(), zlib.crc32('hello'), code];`,
  'node-stubs': `const fs = builtinModule('node:fs'); let code; try { fs.readFileSync('/x'); } catch (e) { code = e.code; } return [code, fs.constants.R_OK, builtinModule('node:os').platform(), builtinModule('node:fs').promises === builtinModule('node:fs/promises').default];`,
  'node-stream': `const { Readable, Transform, promises } = builtinModule('node:stream'); const chunks = []; await promises.pipeline(Readable.from(['a', 'b']), new Transform({ objectMode: true, transform(chunk, _, done) { done(null, String(chunk).toUpperCase()); } }), async function* (source) { for await (const chunk of source) chunks.push(String(chunk)); }); return chunks;`,
  'node-url': `const url = builtinModule('node:url'); return [url.fileURLToPath('file:///srv/a%20b'), url.pathToFileURL('/a b#c').href, url.domainToUnicode('xn--espaol-zwa.com'), url.parse('HTTP://A.com/p?q=1', true).query.q, url.format({ protocol: 'https', hostname: 'x.test', query: { a: 'b c' } }), new url.Url().parse('http://B.test/x').format()];`,
  'node-process': `const { env, nextTick } = builtinModule('node:process'); env.N = 1; return await new Promise((resolve) => nextTick((a, b) => resolve([a, b, env.N]), 'x', 2));`,
};

const EXPECTED: Record<string, unknown> = {
  'web-streams': 'a',
  urlpattern: '42',
  fflate: 'hello',
  tr46: 'xn--bcher-kva.example',
  'whatwg-url': ['https://x.test/b?q=a%20b', 'd e'],
  'web-crypto': [0xda, 0x39, 0xa3],
  'generic-array-methods': [5, 'a-b'],
  'node-buffer': '6869',
  'node-events': 7,
  'node-path': '/b',
  'node-util': 'a-1 { b: [ 2 ] }',
  'node-crypto': 'YkTmZFGhyGlduXMc4sT9XeJcz4c',
  'node-async-hooks': 'kept',
  'node-assert': 'ERR_ASSERTION',
  'node-process': ['x', 2, '1'],
  'node-url': ['/srv/a b', 'file:///a%20b%23c', 'español.com', '1', 'https://x.test?a=b%20c', 'http://b.test/x'],
  'node-string-decoder': ['', '€', ''],
  'node-stream': ['A', 'B'],
  'node-timers': ['number', true, 'function'],
  'node-stubs': ['ERR_METHOD_NOT_IMPLEMENTED', 4, 'linux', true],
  'node-zlib': ['zipped twice, zipped twice', 907060870, 'Z_DATA_ERROR'],
  'node-diagnostics-channel': [[[1, 'chunk-test']], 'traced'],
  'node-querystring': [['1', '2'], '€ x', ['a', 'b'], 'k=x%20y&k=1', 2],
};

for (const [chunk, use] of Object.entries(USES)) {
  t.test(`the ${chunk} chunk loads on first use, after Object.prototype gained enumerable properties`, async (t) => {
    const ev = await Evaluator.create({ natives: true });
    t.teardown(() => ev.dispose());
    const asked = () => ev.worker.calls.filter(([op, name]) => op === 'runtimeChunk' && name === chunk).length;
    t.equal(ev.run(`return 1`), 1);
    t.equal(asked(), 0, 'not loaded before it is used');
    const value = ev.run(`
      Object.prototype.extend = function () {};
      Object.prototype.level = 0;
      try { ${use} } finally { delete Object.prototype.extend; delete Object.prototype.level; }
    `);
    t.same(value, EXPECTED[chunk]);
    t.equal(asked(), 1, 'asked from the host once');
  });
}

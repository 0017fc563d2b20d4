/**
 * Node.js built-in modules under the nodejs_compat compatibility flag, over real HTTP: a worker imports
 * node:buffer, node:crypto, node:events, node:path and node:util (prefixed and bare) and uses them, and has the
 * global Buffer (in top-level code too, and in service-worker syntax); every export name
 * the host links is there; without the flag, or for a module the runtime does not have, the deploy is a
 * 400 that says so and the live version keeps serving; bad compatibility_flags are 400s.
 */
import t, { type Test } from 'tap';
import { AVAILABLE_BUILTINS, BUILTIN_EXPORTS } from '../../src/isolates/builtin-modules.ts';
import { STUB_MODULES } from '../../src/isolates/node-stub-modules.ts';
import { admin, deployMultipart, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

const NODE_COMPAT = { main_module: 'main.js', compatibility_flags: ['nodejs_compat'] };

/** Deploys `source` as worker `name` (with nodejs_compat unless `metadata` says otherwise) and calls it: both must succeed. */
async function deployAndCall(t: Test, name: string, source: string, init: { metadata?: Record<string, unknown>; path?: string; body?: string | Uint8Array; type?: string } = {}) {
  const deployed = await deployMultipart(server, name, init.metadata ?? NODE_COMPAT, { 'main.js': source });
  t.equal(deployed.status, 201, deployed.text);
  const post = init.body === undefined ? {} : { method: 'POST', body: init.body, headers: { 'content-type': init.type ?? 'application/json' } };
  const reply = await send(server, `${name}.localhost`, init.path ?? '/', post);
  t.equal(reply.status, 200, `${init.path ?? '/'}: ${reply.text.slice(0, 500)}`);
  return reply;
}

// The modules that can be imported but not used, each as a namespace (their names are checked below too).
const STUB_NAMES = Object.keys(STUB_MODULES);

const WORKER = `
${STUB_NAMES.map((name, i) => `import * as stub${i} from '${name}';`).join('\n')}
import { Buffer, isUtf8, isAscii, constants } from 'node:buffer';
import bufferModule, { Buffer as BareBuffer } from 'buffer';
import EventEmitter, { once } from 'node:events';
import path, { join, resolve } from 'node:path';
import posix from 'node:path/posix';
import util, { format, inspect, promisify, types, isDeepStrictEqual } from 'node:util';
import * as bufferNs from 'node:buffer';
import * as eventsNs from 'node:events';
import * as pathNs from 'node:path';
import * as utilNs from 'node:util';
import * as workersNs from 'cloudflare:workers';
import * as cryptoNs from 'node:crypto';
import * as asyncHooksNs from 'node:async_hooks';
import * as assertNs from 'node:assert';
import * as processNs from 'node:process';
import * as streamNs from 'node:stream';
import * as streamPromisesNs from 'node:stream/promises';
import * as stringDecoderNs from 'node:string_decoder';
import * as urlNs from 'node:url';
import * as querystringNs from 'node:querystring';
import * as timersNs from 'node:timers';
import * as diagnosticsChannelNs from 'node:diagnostics_channel';
import * as zlibNs from 'node:zlib';
import * as timersPromisesNs from 'node:timers/promises';
import assert, { AssertionError } from 'node:assert';
import strictAssert, * as assertStrictNs from 'node:assert/strict';
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export default { async fetch(request) {
  const { pathname } = new URL(request.url);
  if (pathname === '/exports') {
    const names = (ns) => Object.fromEntries(Object.keys(ns).map((k) => [k, ns[k] === undefined ? 'undefined' : ns[k] === null ? 'null' : typeof ns[k]]));
    return Response.json({ 'cloudflare:workers': names(workersNs), 'node:buffer': names(bufferNs), 'node:crypto': names(cryptoNs), 'node:diagnostics_channel': names(diagnosticsChannelNs), 'node:async_hooks': names(asyncHooksNs), 'node:assert': names(assertNs), 'node:assert/strict': names(assertStrictNs), 'node:events': names(eventsNs), 'node:path': names(pathNs), 'node:process': names(processNs), 'node:querystring': names(querystringNs), 'node:stream': names(streamNs), 'node:stream/promises': names(streamPromisesNs), 'node:string_decoder': names(stringDecoderNs), 'node:timers': names(timersNs), 'node:timers/promises': names(timersPromisesNs), 'node:url': names(urlNs), 'node:util': names(utilNs), 'node:zlib': names(zlibNs), ${STUB_NAMES.map((name, i) => `'${name}': names(stub${i})`).join(', ')} });
  }
  const b = Buffer.from('héllo wörld');
  const ee = new EventEmitter();
  const heard = [];
  ee.on('x', (v) => heard.push('on:' + v));
  ee.once('x', (v) => heard.push('once:' + v));
  ee.emit('x', 1);
  ee.emit('x', 2);
  setTimeout(() => ee.emit('later', 'ok'), 1);
  const [later] = await once(ee, 'later');
  const legacy = (a, cb) => setTimeout(() => (a < 0 ? cb(new Error('negative')) : cb(null, a * 2)), 1);
  const doubled = await promisify(legacy)(21);
  let rejected = null;
  try { await promisify(legacy)(-1); } catch (e) { rejected = e.message; }
  if (pathname === '/assert') {
    const outcome = (fn) => { try { fn(); return 'passed'; } catch (e) { return (e instanceof AssertionError ? 'AssertionError ' : e.constructor.name + ' ') + e.code + ': ' + e.message.split('\\n')[0]; } };
    let rejected = 'no';
    await assert.rejects(Promise.reject(new TypeError('bad')), TypeError).then(() => { rejected = 'matched'; });
    return Response.json([
      outcome(() => assert(1 === 1)),
      outcome(() => assert.ok(0, 'zero is falsy')),
      outcome(() => assert.equal(1, '1')),
      outcome(() => assert.strictEqual(1, '1')),
      outcome(() => assert.deepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })),
      outcome(() => assert.deepStrictEqual({ a: 1 }, { a: 2 })),
      outcome(() => assert.throws(() => { throw new RangeError('out'); }, { name: 'RangeError', message: /ou/ })),
      outcome(() => assert.throws(() => {})),
      outcome(() => assert.match('abc', /b/)),
      outcome(() => assert.strict.notStrictEqual(NaN, NaN)),
      outcome(() => assert.strict.equal(1, '1')),
      outcome(() => strictAssert.equal(1, 1)),
      outcome(() => strictAssert.notEqual(1, '1')),
      strictAssert === assert.strict && strictAssert.strict === strictAssert,
      rejected,
    ]);
  }
  if (pathname === '/crypto') {
    const hash = createHash('sha256').update('ab');
    const copy = hash.copy().update('c');
    const errors = [];
    for (const attempt of [() => hash.digest('hex') && hash.digest('hex'), () => createHash('whirlpool'), () => createHmac('md5', 'k'), () => timingSafeEqual(Buffer.from('a'), Buffer.from('ab'))]) {
      try { attempt(); errors.push('no error'); } catch (e) { errors.push(e.code); }
    }
    const random = [randomBytes(16), randomBytes(16)];
    const ints = Array.from({ length: 200 }, () => randomInt(3, 7));
    return Response.json({
      sha256: copy.digest('hex'),
      md5: createHash('MD5').update('a').update(Buffer.from('bc')).digest('base64'),
      sha512: createHash('RSA-SHA512').update(new Uint8Array(0)).digest('base64url').slice(0, 20),
      hmac: createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),
      emptyKey: createHmac('sha1', '').update('').digest('hex'),
      bufferOut: Buffer.isBuffer(createHash('sha1').update('x').digest()),
      errors,
      random: [random[0].length, Buffer.isBuffer(random[0]), random[0].equals(random[1])],
      ints: [Math.min(...ints), Math.max(...ints)],
      equal: [timingSafeEqual(Buffer.from('abc'), new TextEncoder().encode('abc')), timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))],
      uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4/.test(cryptoNs.randomUUID()),
      subtle: cryptoNs.subtle === crypto.subtle,
    });
  }
  return Response.json({
    base64: b.toString('base64'),
    hex: Buffer.from([1, 2, 254]).toString('hex'),
    fromBase64: Buffer.from('aGVsbG8=', 'base64').toString(),
    base64url: [Buffer.from([0xfb, 0xff]).toString('base64url'), [...Buffer.from('-_8', 'base64url')], Buffer.byteLength('-_8', 'base64url'), Buffer.isEncoding('base64url')],
    byteLength: Buffer.byteLength('héllo'),
    concat: Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]).toString(),
    readUInt32BE: Buffer.from([0, 0, 1, 0]).readUInt32BE(0),
    isBuffer: Buffer.isBuffer(b) && !Buffer.isBuffer(new Uint8Array(1)),
    isUint8Array: b instanceof Uint8Array,
    bareIsSame: BareBuffer === Buffer && bufferModule.Buffer === Buffer,
    isUtf8: [isUtf8(b), isUtf8(new Uint8Array([0xff]))],
    isAscii: [isAscii(Buffer.from('abc')), isAscii(b)],
    maxLength: constants.MAX_LENGTH > 0,
    heard, later, listeners: ee.listenerCount('x'),
    join: join('/a', 'b', '../c'),
    resolve: resolve('x', 'y'),
    parse: path.parse('/srv/app/index.html'),
    posixIsPath: posix.join === path.join && path.posix === path,
    format: format('%s=%d %j %%', 'a', 42, { b: [1] }),
    inspect: inspect({ a: [1, { b: 'c' }], m: new Map([[1, 2]]) }),
    doubled, rejected,
    types: [types.isUint8Array(b), types.isPromise(Promise.resolve()), types.isDate(new Date()), types.isRegExp('x')],
    deepEqual: [isDeepStrictEqual({ a: [1, 2] }, { a: [1, 2] }), isDeepStrictEqual({ a: 1 }, { a: '1' })],
    utilDefault: util.format === format,
    globalBuffer: globalThis.Buffer === Buffer,
  });
} };
`;

t.test('a nodejs_compat worker imports and uses node:buffer, node:events, node:path and node:util', async (t) => {
  const deployed = await deployMultipart(server, 'node-compat', NODE_COMPAT, { 'main.js': WORKER });
  t.equal(deployed.status, 201, deployed.text);
  const worker = await admin(server, 'GET', '/v1/workers/node-compat');
  t.same(worker.json<{ active: { compatibilityFlags: string[] } }>().active.compatibilityFlags, ['nodejs_compat'], 'the version shows its flags');

  const reply = await send(server, 'node-compat.localhost', '/');
  t.equal(reply.status, 200, reply.text);
  t.same(reply.json(), {
    base64: Buffer.from('héllo wörld').toString('base64'),
    hex: '0102fe',
    fromBase64: 'hello',
    base64url: ['-_8', [0xfb, 0xff], 2, true],
    byteLength: 6,
    concat: 'abcd',
    readUInt32BE: 256,
    isBuffer: true,
    isUint8Array: true,
    bareIsSame: true,
    isUtf8: [true, false],
    isAscii: [true, false],
    maxLength: true,
    heard: ['on:1', 'once:1', 'on:2'],
    later: 'ok',
    listeners: 1,
    join: '/a/c',
    resolve: '/x/y',
    parse: { root: '/', dir: '/srv/app', base: 'index.html', ext: '.html', name: 'index' },
    posixIsPath: true,
    format: 'a=42 {"b":[1]} %',
    inspect: "{ a: [ 1, { b: 'c' } ], m: Map(1) { 1 => 2 } }",
    doubled: 42,
    rejected: 'negative',
    types: [true, true, true, false],
    deepEqual: [true, false],
    utilDefault: true,
    globalBuffer: true,
  });
});

t.test('node:crypto hashes, signs and draws random numbers as Node does', async (t) => {
  const reply = await send(server, 'node-compat.localhost', '/crypto');
  t.equal(reply.status, 200, reply.text);
  t.same(reply.json(), {
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    md5: 'kAFQmDzST7DWlj99KOF/cg==',
    sha512: 'z4PhNX7vuL3xVChQ1m2A',
    hmac: 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    emptyKey: 'fbdb1d1b18aa6c08324b7d64b71fb76370690e1d',
    bufferOut: true,
    errors: ['ERR_CRYPTO_HASH_FINALIZED', 'ERR_CRYPTO_INVALID_DIGEST', 'ERR_CRYPTO_INVALID_DIGEST', 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH'],
    random: [16, true, false],
    ints: [3, 6],
    equal: [true, false],
    uuid: true,
    subtle: true,
  });
});

t.test('node:assert passes and fails as Node does', async (t) => {
  const reply = await send(server, 'node-compat.localhost', '/assert');
  t.equal(reply.status, 200, reply.text);
  t.same(reply.json(), [
    'passed',
    'AssertionError ERR_ASSERTION: zero is falsy',
    'passed',
    'AssertionError ERR_ASSERTION: Expected values to satisfy strictEqual:',
    'passed',
    'AssertionError ERR_ASSERTION: Expected values to satisfy deepStrictEqual:',
    'passed',
    'AssertionError ERR_ASSERTION: Missing expected exception.',
    'passed',
    'AssertionError ERR_ASSERTION: Expected values to satisfy notStrictEqual:',
    'AssertionError ERR_ASSERTION: Expected values to satisfy strictEqual:',
    'passed',
    'passed',
    true,
    'matched',
  ]);
});

t.test('every export name the host links is there, and no other', async (t) => {
  const reply = await send(server, 'node-compat.localhost', '/exports');
  t.equal(reply.status, 200, reply.text);
  const seen = reply.json<Record<string, Record<string, string>>>();
  for (const [name, exports] of Object.entries(BUILTIN_EXPORTS)) {
    t.same(Object.keys(seen[name]!).sort(), ['default', ...exports].sort(), `${name}: the names`);
    const missing = Object.entries(seen[name]!).filter(([key, type]) => type === 'undefined' && key !== 'win32');
    t.same(missing, [], `${name}: each has a value`);
  }
});

t.test('without the flag, or for a module the runtime does not have, the deploy is a clear 400', async (t) => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['no flag, node: prefix', { main_module: 'main.js' }, `import { Buffer } from 'node:buffer'; export default { fetch: () => new Response(Buffer.from('x')) };`, /"node:buffer".*nodejs_compat/],
    ['no flag, bare name', { main_module: 'main.js', compatibility_flags: ['streams_enable_constructors'] }, `import EventEmitter from 'events'; export default { fetch: () => new Response('x') };`, /"events".*nodejs_compat/],
    ['a module the runtime lacks', NODE_COMPAT, `import { DatabaseSync } from 'node:sqlite'; export default { fetch: () => new Response('x') };`, new RegExp(`"node:sqlite".*${AVAILABLE_BUILTINS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`)],
  ];
  for (const [what, metadata, source, message] of cases) {
    const reply = await deployMultipart(server, 'node-compat', metadata, { 'main.js': source });
    t.equal(reply.status, 400, `${what}: ${reply.text}`);
    const error = reply.json<{ error: { code: string; message: string } }>().error;
    t.equal(error.code, 'ISO_ERR_DEPLOY_MODULE_MISSING', what);
    t.match(error.message, message, what);
  }
  const still = await send(server, 'node-compat.localhost', '/');
  t.equal(still.status, 200, 'the live version still serves');
  t.equal(still.json<{ hex: string }>().hex, '0102fe');
});

t.test('the global Buffer: there from top-level code on with the flag, in both syntaxes; not without it', async (t) => {
  const module = `const atTop = typeof Buffer === 'function' && Buffer.from('hi').toString('base64');
    export default { fetch: () => Response.json({ atTop, inHandler: typeof Buffer }) };`;
  const script = `const atTop = typeof Buffer === 'function' && Buffer.from('hi').toString('base64');
    addEventListener('fetch', (event) => event.respondWith(Response.json({ atTop, inHandler: typeof Buffer })));`;
  const cases: [string, Record<string, unknown>, string, unknown][] = [
    ['buffer-module', NODE_COMPAT, module, { atTop: 'aGk=', inHandler: 'function' }],
    ['buffer-script', { body_part: 'main.js', compatibility_flags: ['nodejs_compat_v2'] }, script, { atTop: 'aGk=', inHandler: 'function' }],
    ['buffer-none', { main_module: 'main.js' }, module, { atTop: false, inHandler: 'undefined' }],
  ];
  for (const [name, metadata, source, expected] of cases) {
    const deployed = await deployMultipart(server, name, metadata, { 'main.js': source });
    t.equal(deployed.status, 201, `${name}: ${deployed.text}`);
    t.same((await send(server, `${name}.localhost`, '/')).json(), expected, name);
  }
});

t.test('process: the global and node:process are one object; process.env holds the text bindings when Workers would', async (t) => {
  const worker = `import nodeProcess, { env, nextTick, platform } from 'node:process';
    import bareProcess from 'process';
    const atTop = typeof process === 'object' ? process.env.API_URL ?? null : 'no process';
    export default { async fetch() {
      const order = [];
      await new Promise((resolve) => { nextTick((a, b) => { order.push('tick:' + a + b); resolve(); }, 1, 2); order.push('sync'); });
      process.env.SET_HERE = 5;
      const errors = [];
      for (const attempt of [() => process.exit(1), () => process.nextTick('not a function')]) {
        try { attempt(); errors.push('no error'); } catch (e) { errors.push(e.code); }
      }
      return Response.json({
        atTop, token: env.TOKEN ?? null, config: env.CONFIG ?? null, keys: Object.keys(env).sort(),
        proto: Object.getOwnPropertyDescriptor(env, '__proto__')?.value ?? null, prototypeKept: Object.getPrototypeOf(env) === Object.prototype,
        same: process === nodeProcess && nodeProcess === bareProcess && env === process.env,
        platform, order, setHere: [process.env.SET_HERE, typeof process.env.SET_HERE], errors,
        builtins: [process.getBuiltinModule('node:buffer').Buffer === Buffer, process.getBuiltinModule('path').join('a', 'b'), process.getBuiltinModule('process') === process, process.getBuiltinModule('node:sqlite') ?? null, typeof process.getBuiltinModule('fs').readFileSync],
        tag: Object.prototype.toString.call(process),
      });
    } };`;
  const bindings = [
    { type: 'plain_text', name: 'API_URL', text: 'https://api.example' },
    { type: 'secret_text', name: 'TOKEN', text: 's3cret' },
    { type: 'json', name: 'CONFIG', json: { a: 1 } },
    // A valid identifier: a variable like any other, not the object's prototype.
    { type: 'plain_text', name: '__proto__', text: 'odd' },
  ];
  const populated = { atTop: 'https://api.example', token: 's3cret', config: null, keys: ['API_URL', 'SET_HERE', 'TOKEN', '__proto__'], proto: 'odd' };
  const empty = { atTop: null, token: null, config: null, keys: ['SET_HERE'], proto: null };
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['process-dated', { compatibility_date: '2025-06-01' }, populated],
    ['process-flagged', { compatibility_date: '2024-09-23', compatibility_flags: ['nodejs_compat', 'nodejs_compat_populate_process_env'] }, populated],
    ['process-old', { compatibility_date: '2024-09-23' }, empty],
    ['process-opted-out', { compatibility_date: '2025-06-01', compatibility_flags: ['nodejs_compat', 'nodejs_compat_do_not_populate_process_env'] }, empty],
  ];
  for (const [name, metadata, expected] of cases) {
    const deployed = await deployMultipart(server, name, { ...NODE_COMPAT, bindings, ...metadata }, { 'main.js': worker });
    t.equal(deployed.status, 201, `${name}: ${deployed.text}`);
    const reply = await send(server, `${name}.localhost`, '/');
    t.equal(reply.status, 200, `${name}: ${reply.text}`);
    t.strictSame(reply.json(), {
      ...expected,
      same: true,
      platform: 'linux',
      order: ['sync', 'tick:12'],
      setHere: ['5', 'string'],
      prototypeKept: true,
      errors: ['ERR_METHOD_NOT_IMPLEMENTED', 'ERR_INVALID_ARG_TYPE'],
      builtins: [true, 'a/b', true, null, 'function'],
      tag: '[object process]',
    }, name);
  }

  const none = await deployMultipart(server, 'process-none', { main_module: 'main.js', bindings }, { 'main.js': `export default { fetch: () => Response.json({ process: typeof process }) };` });
  t.equal(none.status, 201, none.text);
  t.strictSame((await send(server, 'process-none.localhost', '/')).json(), { process: 'undefined' }, 'no process without nodejs_compat, as on Workers');
});

t.test('node:stream, node:stream/promises and node:string_decoder work as Node\'s, over node:buffer\'s Buffer', async (t) => {
  const source = `import { Readable, Writable, Transform, PassThrough, pipeline } from 'node:stream';
    import { pipeline as pipelineAsync } from 'node:stream/promises';
    import Stream from 'stream';
    import { StringDecoder } from 'string_decoder';
    export default { async fetch(request) {
      const out = [];
      const upper = new Transform({ transform(chunk, encoding, done) { done(null, chunk.toString().toUpperCase()); } });
      await pipelineAsync(Readable.from([await request.text(), ' world']), upper, new Writable({ write(chunk, encoding, done) { out.push(chunk.toString()); done(); } }));
      const failed = await new Promise((resolve) => pipeline(new Readable({ read() { this.destroy(new Error('boom')); } }), new PassThrough(), (e) => resolve(e ? e.message : null)));
      const decoder = new StringDecoder('utf8');
      const bytes = new TextEncoder().encode('héllo');
      const decoded = [decoder.write(bytes.subarray(0, 2)), decoder.write(Buffer.from(bytes.subarray(2))), decoder.end()];
      const kinds = [];
      for await (const chunk of Readable.from([Buffer.from('x'), 'y'], { objectMode: false })) kinds.push(Buffer.isBuffer(chunk));
      return Response.json({ out: out.join(''), failed, decoded, kinds, legacy: Stream === Stream.Stream && Stream.Readable === Readable, promises: Stream.promises.pipeline === pipelineAsync });
    } };`;
  const deployed = await deployMultipart(server, 'node-stream', NODE_COMPAT, { 'main.js': source });
  t.equal(deployed.status, 201, deployed.text);
  const reply = await send(server, 'node-stream.localhost', '/', { method: 'POST', body: 'hello' });
  t.equal(reply.status, 200, reply.text);
  t.strictSame(reply.json(), { out: 'HELLO WORLD', failed: 'boom', decoded: ['h', 'éllo', ''], kinds: [true, true], legacy: true, promises: true });
});

// Values that JSON cannot carry (bigints, NaN, undefined) and functions: the same source runs in the worker
// and here, in Node, whose results are the reference.
const STRINGIFY_CASES = `() => [
  [{ a: 'b' }], [{ a: [1, 2], b: true, c: null, d: undefined, e: {}, f: 1n, g: NaN, h: 'x y', i: Infinity, '': 'e', j: 1e21, k: -0, l: 'ä😀', m: [], n: [null, 'x'] }],
  ['not an object'], [null], [[1, 2]], [{ a: 'b', c: 'd' }, ';', ':'], [{ a: 'b' }, 5, 6], [{ 'a b': 'c&d=e', é: '~*()!' }],
  [{ big: 10n ** 30n, neg: -5n, small: 1e-7, exp: -2e21 }], [Object.assign(Object.create({ inherited: 1 }), { own: 2 })],
]`;
const CUSTOM_CASES = `(parse, stringify) => {
  const calls = [];
  const upper = (s) => { calls.push(s); return s.toUpperCase(); };
  const thrower = (s) => { calls.push(s); throw new Error('no'); };
  return [
    Object.entries(parse('a+b=c%20d&x=y&&=z&p=', null, null, { decodeURIComponent: upper })),
    Object.entries(parse('a=%zz&b=%41+&c=%E4', null, null, { decodeURIComponent: thrower })),
    stringify({ a: 'b', n: 1, e: '', arr: [1, null] }, null, null, { encodeURIComponent: (s) => '[' + s + ']' }),
    calls,
  ];
}`;

/**
 * `count` strings of `minTokens` to `maxTokens` of `tokens` each, picked by a seeded generator: the same
 * inputs on every run, here and in the worker.
 */
function tokenStrings(tokens: string[], count: number, seed: number, minTokens: number, maxTokens: number): string[] {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    const length = minTokens + Math.floor(random() * (maxTokens - minTokens + 1));
    for (let j = 0; j < length; j++) text += tokens[Math.floor(random() * tokens.length)];
    out.push(text);
  }
  return out;
}

/** Query strings made of the pieces that matter: separators, escapes good and bad, '+', non-ASCII. */
function queryCases(count: number, seed: number): string[] {
  const tokens = ['a', 'b', 'key', '=', '==', '&', '&&', ';', ':', '%', '%2', '%41', '%%41', '%zz', '%E4', '%F0%9F%98%80', '%C3%A4', '+', ' ', 'é', '😀', '\uD800', '\uDC00', '__proto__', 'x=y'];
  return tokenStrings(tokens, count, seed, 0, 9);
}

t.test("node:querystring gives what Node's gives", async (t) => {
  const querystring = await import('node:querystring');
  const { Buffer } = await import('node:buffer');
  const separators: [unknown, unknown, number | null][] = [[undefined, undefined, null], [';', ':', null], ['&&', '==', null], [null, '', 2], ['&', '=', 0], ['&', '=', -1], [5, 6, 1]];
  const queries = queryCases(1400, 7);
  const input = {
    parseCases: queries.map((q, i) => [q, ...separators[i % separators.length]!]) as unknown[][],
    unescapeCases: queryCases(400, 11).map((q, i) => [q, i % 2 === 0]) as unknown[][],
    escapeCases: [...queryCases(300, 13), 42, null, true] as unknown[],
  };
  const source = `import qs from 'node:querystring';
    import { Buffer } from 'node:buffer';
    export default { async fetch(request) {
      const input = await request.json();
      return Response.json(run(input, qs, Buffer, ${STRINGIFY_CASES}, ${CUSTOM_CASES}));
    } };
    ${run.toString()}`;
  type Input = typeof input;
  // Runs in the worker (its source is pasted there: Node strips the types) and here, with Node's module.
  function run(input: Input, qs: typeof querystring, Buf: typeof Buffer, stringifyCases: () => unknown[][], customCases: (parse: unknown, stringify: unknown) => unknown) {
    const attempt = (f: () => unknown) => {
      try {
        return f();
      } catch (e) {
        const error = e as Error & { code?: string };
        return { error: `${error.name}:${error.code ?? ''}:${error.message}` };
      }
    };
    const parsed = (o: object) => ({ prototype: Object.getPrototypeOf(o) === null ? 'null' : 'other', entries: Object.entries(o) });
    return {
      parse: input.parseCases.map(([q, sep, eq, maxKeys]) => attempt(() => parsed(qs.parse(q as string, sep as string, eq as string, maxKeys === null ? undefined : { maxKeys: maxKeys as number })))),
      unescape: input.unescapeCases.map(([q, spaces]) => attempt(() => {
        const loose = qs as unknown as { unescape(s: string, spaces: boolean): string; unescapeBuffer(s: string, spaces: boolean): Uint8Array };
        return [loose.unescape(q as string, spaces as boolean), Buf.from(loose.unescapeBuffer(q as string, spaces as boolean)).toString('hex'), Buf.isBuffer(loose.unescapeBuffer(q as string, spaces as boolean))];
      })),
      escape: input.escapeCases.map((q) => attempt(() => qs.escape(q as string))),
      stringify: stringifyCases().map(([o, sep, eq]) => attempt(() => qs.stringify(o as never, sep as string, eq as string))),
      custom: customCases(qs.parse, qs.stringify),
      shape: [Object.keys(qs).filter((k) => k !== 'default').sort(), qs.decode === qs.parse, qs.encode === qs.stringify],
    };
  }
  const here = (text: string) => new Function(`return (${text})`)();
  const expected = JSON.parse(JSON.stringify(run(input, querystring, Buffer, here(STRINGIFY_CASES), here(CUSTOM_CASES))));

  const reply = await deployAndCall(t, 'querystring', source, { body: JSON.stringify(input) });
  const actual = reply.json<typeof expected>();
  for (const part of ['parse', 'unescape', 'escape', 'stringify'] as const) {
    const cases = part === 'parse' ? input.parseCases : part === 'unescape' ? input.unescapeCases : part === 'escape' ? input.escapeCases : expected.stringify;
    const differ = (actual[part] as unknown[]).map((value, i) => [i, value] as const).filter(([i, value]) => JSON.stringify(value) !== JSON.stringify(expected[part][i]));
    t.equal(actual[part].length, expected[part].length, `${part}: as many results`);
    t.same(differ.slice(0, 3).map(([i, value]) => ({ input: cases[i], got: value, node: expected[part][i] })), [], `${part}: all ${actual[part].length} results are Node's`);
  }
  t.strictSame(actual.custom, expected.custom, 'custom decoders and encoders are called as Node calls them');
  t.strictSame(actual.shape, expected.shape, "the module's functions, and decode/encode as parse/stringify");
});

t.test('node:timers and node:timers/promises: Timeout objects, immediates, promise timers and AbortSignal', async (t) => {
  const source = `import timers, { setTimeout as nodeSetTimeout, clearTimeout as nodeClearTimeout, setImmediate, clearImmediate, setInterval as nodeSetInterval, clearInterval as nodeClearInterval, promises } from 'node:timers';
    import * as timersPromises from 'node:timers/promises';
    export default { async fetch() {
      const events = [];
      const timeout = nodeSetTimeout((a, b) => events.push('timeout:' + a + b), 5, 1, 2);
      const shape = [typeof timeout, timeout.hasRef(), timeout.unref() === timeout, timeout.hasRef(), timeout.ref().hasRef(), typeof +timeout];
      nodeClearTimeout(nodeSetTimeout(() => events.push('cleared as an object'), 1));
      clearTimeout(+nodeSetTimeout(() => events.push('cleared by its id, with the global'), 1));
      setImmediate((x) => events.push('immediate:' + x), 'i');
      clearImmediate(setImmediate(() => events.push('cleared immediate')));
      const stopped = nodeSetTimeout(() => events.push('closed'), 1);
      stopped.close();
      const refreshed = nodeSetTimeout(() => events.push('refreshed'), 1);
      if (refreshed.refresh() !== refreshed) events.push('refresh returned another object');
      let count = 0;
      await new Promise((resolve) => { const interval = nodeSetInterval(() => { events.push('interval'); if (++count === 3) { nodeClearInterval(interval); resolve(); } }, 2); });
      const started = Date.now();
      const value = await timersPromises.setTimeout(20, 'late');
      const waited = Date.now() - started;
      const controller = new AbortController();
      const pending = timersPromises.setTimeout(10000, 'never', { signal: controller.signal }).catch((e) => [e.name, e.code, e.cause, e instanceof Error]);
      controller.abort('stop');
      const ticks = [];
      for await (const tick of timersPromises.setInterval(2, 'tick')) { ticks.push(tick); if (ticks.length === 3) break; }
      let notAFunction;
      try { nodeSetTimeout('code', 1); } catch (e) { notAFunction = e.code; }
      return Response.json({
        events: events.sort(), shape, value, waitedEnough: waited >= 15,
        immediate: await timersPromises.setImmediate('soon'),
        aborted: await pending,
        abortedBefore: await timersPromises.setTimeout(1, 'x', { signal: AbortSignal.abort('early') }).catch((e) => [e.name, e.code, e.cause]),
        badOptions: await timersPromises.setTimeout(1, 'x', 'not an object').catch((e) => e.code),
        ticks,
        scheduler: [await timersPromises.scheduler.wait(2), await timersPromises.scheduler.yield()],
        notAFunction,
        same: [timers.promises === promises, promises === timersPromises.default, timersPromises.setTimeout === promises.setTimeout],
      });
    } };`;
  const reply = await deployAndCall(t, 'timers', source);
  t.strictSame(reply.json(), {
    events: ['immediate:i', 'interval', 'interval', 'interval', 'refreshed', 'timeout:12'],
    shape: ['object', true, true, false, true, 'number'],
    value: 'late',
    waitedEnough: true,
    immediate: 'soon',
    aborted: ['AbortError', 'ABORT_ERR', 'stop', true],
    abortedBefore: ['AbortError', 'ABORT_ERR', 'early'],
    badOptions: 'ERR_INVALID_ARG_TYPE',
    ticks: ['tick', 'tick', 'tick'],
    scheduler: [null, null],
    notAFunction: 'ERR_INVALID_ARG_TYPE',
    same: [true, true, true],
  });
});

// Runs in a worker and in this process, with each one's node:diagnostics_channel and AsyncLocalStorage.
const DIAGNOSTICS_SCENARIO = `async (dc, AsyncLocalStorage) => {
  const log = [];
  const name = (s) => typeof s === 'symbol' ? s.description : s;
  const a = dc.channel('isolane-test:a');
  log.push(['same channel', a === dc.channel('isolane-test:a'), a instanceof dc.Channel, a.name, dc.hasSubscribers('isolane-test:a'), a.hasSubscribers]);
  const first = (message, channelName) => log.push(['first', message, name(channelName)]);
  const second = (message) => log.push(['second', message]);
  a.subscribe(first);
  dc.subscribe('isolane-test:a', second);
  log.push(['subscribed', a.hasSubscribers, dc.hasSubscribers('isolane-test:a')]);
  a.publish({ n: 1 });
  log.push(['unsubscribe', a.unsubscribe(first), a.unsubscribe(first), dc.unsubscribe('isolane-test:a', second), a.hasSubscribers]);
  a.publish({ n: 2 });
  const symbolChannel = dc.channel(Symbol('isolane-test:symbol'));
  symbolChannel.subscribe((message, channelName) => log.push(['symbol', message, name(channelName)]));
  symbolChannel.publish('s');
  try { dc.channel(5); } catch (e) { log.push(['bad name', e.code]); }
  try { a.subscribe('not a function'); } catch (e) { log.push(['bad subscriber', e.code]); }

  const store = new AsyncLocalStorage();
  const b = dc.channel('isolane-test:b');
  b.bindStore(store, (data) => ({ wrapped: data }));
  log.push(['bound', b.hasSubscribers]);
  b.subscribe((message) => log.push(['b sees store', message, store.getStore()]));
  const returned = b.runStores({ id: 7 }, function (x, y) { log.push(['in fn', store.getStore(), this.self, x, y]); return 'ret'; }, { self: 'this' }, 1, 2);
  log.push(['after runStores', returned, store.getStore() ?? null, b.unbindStore(store), b.unbindStore(store)]);

  const traced = dc.tracingChannel('isolane-test:trace');
  log.push(['tracing before', traced.hasSubscribers, traced.start === dc.channel('tracing:isolane-test:trace:start')]);
  const event = (kind) => (context) => log.push([kind, { ...context, error: context.error && context.error.message }]);
  const handlers = { start: event('start'), end: event('end'), asyncStart: event('asyncStart'), asyncEnd: event('asyncEnd'), error: event('error') };
  traced.subscribe(handlers);
  log.push(['tracing after', traced.hasSubscribers]);
  log.push(['traceSync result', traced.traceSync((x) => x * 2, { op: 'double' }, undefined, 21)]);
  try { traced.traceSync(() => { throw new Error('sync boom'); }, { op: 'throw' }); } catch (e) { log.push(['traceSync threw', e.message]); }
  log.push(['tracePromise result', await traced.tracePromise(async (x) => x + 1, { op: 'inc' }, undefined, 1)]);
  try { await traced.tracePromise(async () => { throw new Error('async boom'); }, { op: 'reject' }); } catch (e) { log.push(['tracePromise rejected', e.message]); }
  log.push(['tracePromise of a plain value', await traced.tracePromise(() => 'plain', { op: 'plain' })]);
  const viaCallback = await new Promise((resolve) => {
    traced.traceCallback(function (x, done) { Promise.resolve().then(() => done(null, x * 3, 'extra')); return 'sync return'; }, -1, { op: 'callback' }, undefined, 5, function (...args) { log.push(['callback got', args]); resolve(args.length); });
  });
  log.push(['callback args', viaCallback]);
  await new Promise((resolve) => traced.traceCallback((done) => done(new Error('cb boom')), 0, { op: 'callback error' }, undefined, (err) => { log.push(['callback error', err.message]); resolve(); }));
  log.push(['unsubscribe tracing', traced.unsubscribe(handlers), traced.unsubscribe(handlers), traced.hasSubscribers]);
  log.push(['untraced', traced.traceSync(() => 'quiet', { op: 'quiet' })]);
  return log;
}`;

t.test("node:diagnostics_channel gives what Node's gives", async (t) => {
  const dc = await import('node:diagnostics_channel');
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const expected = JSON.parse(JSON.stringify(await new Function(`return (${DIAGNOSTICS_SCENARIO})`)()(dc, AsyncLocalStorage)));
  const source = `import * as dc from 'node:diagnostics_channel';
    import { AsyncLocalStorage } from 'node:async_hooks';
    const scenario = ${DIAGNOSTICS_SCENARIO};
    export default { async fetch() { return Response.json(await scenario(dc, AsyncLocalStorage)); } };`;
  t.strictSame((await deployAndCall(t, 'diagnostics', source)).json(), expected);

  // A subscriber that throws: the others still get the message, and the error is the worker's uncaught one.
  const throwing = `import { channel } from 'node:diagnostics_channel';
    export default { async fetch() {
      const c = channel('isolane-test:throwing'), got = [];
      c.subscribe(() => { throw new Error('subscriber boom'); });
      c.subscribe((message) => got.push(message));
      c.publish('still delivered');
      await null;
      return Response.json(got);
    } };`;
  t.strictSame((await deployAndCall(t, 'diagnostics-throwing', throwing)).json(), ['still delivered']);
});

t.test("node:zlib: what it compresses Node decompresses, and the other way; Node's errors; callbacks and streams", async (t) => {
  const zlib = await import('node:zlib');
  // 256 MiB of zeros: ~255 KB gzipped, twice the worker's memory inflated.
  const bombBase64 = zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024)).toString('base64');
  const source = `const BOMB_BASE64 = '${bombBase64}';
    import zlib, { gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync, inflateRawSync, unzipSync, crc32, constants, createGzip, createGunzip } from 'node:zlib';
    import { Buffer } from 'node:buffer';
    import { Readable, Writable } from 'node:stream';
    import { pipeline } from 'node:stream/promises';
    import { promisify } from 'node:util';
    const b64 = (bytes) => Buffer.from(bytes).toString('base64');
    const bytes = (text) => Buffer.from(text, 'base64');
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.code, e.errno ?? null, e.message]; } };
    export default { async fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === '/compress') {
        const input = Buffer.from(await request.arrayBuffer());
        const gzipped = gzipSync(input);
        return Response.json({ gzip: b64(gzipped), deflate: b64(deflateSync(input, { level: 9 })), raw: b64(deflateRawSync(input, { level: 1 })), stored: b64(deflateSync(input, { level: 0 })), isBuffer: Buffer.isBuffer(gzipped) });
      }
      const body = await request.json();
      if (pathname === '/decompress') {
        return Response.json({
          gunzip: b64(gunzipSync(bytes(body.gzip))), inflate: b64(inflateSync(bytes(body.deflate))), raw: b64(inflateRawSync(bytes(body.raw))),
          unzip: [b64(unzipSync(bytes(body.gzip))), b64(unzipSync(bytes(body.deflate)))],
          members: gunzipSync(Buffer.concat([bytes(body.small), bytes(body.small)])).toString(),
          padded: gunzipSync(Buffer.concat([bytes(body.small), Buffer.alloc(4)])).toString(),
          trailing: inflateSync(Buffer.concat([bytes(body.smallDeflate), Buffer.from('after')])).toString(),
        });
      }
      if (pathname === '/errors') {
        return Response.json(body.map(([kind, input]) => failure(() => zlib[kind + 'Sync'](bytes(input)))));
      }
      // Callbacks, promisify, streams, crc32, options.
      const gzipAsync = promisify(zlib.gzip);
      const viaCallback = await gzipAsync('callback text');
      const callbackError = await new Promise((resolve) => zlib.inflate(Buffer.from('not zlib'), (error, result) => resolve([error.code, result === undefined])));
      const big = Buffer.alloc(300000, 'stream me ');
      const out = [];
      await pipeline(Readable.from([big.subarray(0, 100000), big.subarray(100000)]), createGzip({ level: 6 }), createGunzip(), new Writable({ write(chunk, _, done) { out.push(chunk); done(); } }));
      const streamError = await pipeline(Readable.from([Buffer.from('definitely not gzip')]), createGunzip(), new Writable({ write(_c, _e, done) { done(); } })).then(() => 'no error', (e) => e.code);
      return Response.json({
        viaCallback: gunzipSync(viaCallback).toString(), callbackError,
        streamed: Buffer.concat(out).equals(big), streamError,
        crc: [crc32('hello'), crc32(Buffer.from(' world'), crc32('hello')), crc32('')],
        constants: [constants.Z_BEST_COMPRESSION, constants.Z_DATA_ERROR, constants.Z_BUF_ERROR],
        optionErrors: [failure(() => deflateSync('a', { level: 11 })), failure(() => deflateSync(5)), failure(() => inflateSync(deflateSync(Buffer.alloc(1000)), { maxOutputLength: 10 })), failure(() => zlib.gzip('x'))],
        // A bomb (1 GiB of zeros, ~1 MB compressed) under a small maxOutputLength: stopped as it passes
        // it, as Node stops, not inflated whole (past the isolate's memory limit) and refused after.
        bomb: (() => { const packed = bytes(BOMB_BASE64); const started = Date.now(); return [...failure(() => gunzipSync(packed, { maxOutputLength: 1000 })), Date.now() - started < 2000] })(),
        // Under a limit it does not reach, a body of many pieces (fed 16 KiB of input at a time) comes out whole.
        limitedWhole: (() => { const big = Buffer.alloc(200000); let x = 7; for (let i = 0; i < big.length; i++) big[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24; return [gunzipSync(gzipSync(big), { maxOutputLength: 200000 }).equals(big), failure(() => inflateSync(deflateSync(big), { maxOutputLength: 199999 }))[0]] })(),
        classes: [createGzip() instanceof zlib.Gzip, typeof zlib.Unzip, zlib.InflateRaw.name],
      });
    } };`;
  // Compressing ~100 KB four ways, with fflate compiled on first use, takes more than the default 50 ms.
  const deployed = await deployMultipart(server, 'zlib', { ...NODE_COMPAT, limits: { cpu_ms: 1000 } }, { 'main.js': source });
  t.equal(deployed.status, 201, deployed.text);
  const post = async (path: string, body: string | Uint8Array, type = 'application/json') => {
    const reply = await send(server, 'zlib.localhost', path, { method: 'POST', body, headers: { 'content-type': type } });
    t.equal(reply.status, 200, `${path}: ${reply.text.slice(0, 500)}`);
    return reply.json<Record<string, unknown>>();
  };
  // Compressible text and incompressible bytes.
  let seed = 1;
  const noise = Buffer.from(Array.from({ length: 30000 }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) >> 16) & 255));
  const input = Buffer.concat([Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(1500)), noise, Buffer.from('é😀'.repeat(100))]);

  const compressed = await post('/compress', input, 'application/octet-stream');
  const from = (text: unknown) => Buffer.from(text as string, 'base64');
  t.ok(zlib.gunzipSync(from(compressed.gzip)).equals(input), 'Node gunzips what the worker gzipped');
  t.ok(zlib.inflateSync(from(compressed.deflate)).equals(input), 'Node inflates what the worker deflated at level 9');
  t.ok(zlib.inflateRawSync(from(compressed.raw)).equals(input), 'Node inflates raw DEFLATE at level 1');
  t.ok(zlib.inflateSync(from(compressed.stored)).equals(input), 'and level 0 (stored blocks)');
  t.ok(from(compressed.stored).length > input.length, 'level 0 does not compress');
  t.ok(from(compressed.deflate).length < from(compressed.stored).length / 2, 'level 9 does');
  t.equal(compressed.isBuffer, true);

  const small = zlib.gzipSync('member');
  const decompressed = await post('/decompress', JSON.stringify({
    gzip: zlib.gzipSync(input).toString('base64'), deflate: zlib.deflateSync(input).toString('base64'), raw: zlib.deflateRawSync(input).toString('base64'),
    small: small.toString('base64'), smallDeflate: zlib.deflateSync('trailing').toString('base64'),
  }));
  for (const key of ['gunzip', 'inflate', 'raw']) t.ok(from(decompressed[key]).equals(input), `the worker's ${key} of Node's data`);
  t.ok((decompressed.unzip as string[]).every((text) => from(text).equals(input)), 'unzip tells gzip from zlib');
  t.same([decompressed.members, decompressed.padded, decompressed.trailing], [zlib.gunzipSync(Buffer.concat([small, small])).toString(), zlib.gunzipSync(Buffer.concat([small, Buffer.alloc(4)])).toString(), 'trailing'], "concatenated members, zero padding and trailing data as in Node");

  // The same bad inputs here and there: Node's code, errno and message.
  const deflated = zlib.deflateSync('hello world');
  const gzipped = zlib.gzipSync('hello world');
  const flip = (bytes: Buffer, at: number) => { const copy = Buffer.from(bytes); copy[at]! ^= 1; return copy; };
  const cases: [string, Buffer][] = [
    ['inflate', Buffer.from('not zlib data')], ['gunzip', Buffer.from('not gzip data')], ['gunzip', Buffer.concat([gzipped, Buffer.from('garbage')])],
    ['inflate', deflated.subarray(0, deflated.length - 3)], ['gunzip', gzipped.subarray(0, 12)], ['inflate', Buffer.alloc(0)], ['gunzip', Buffer.alloc(0)],
    ['inflate', flip(deflated, deflated.length - 1)], ['gunzip', flip(gzipped, gzipped.length - 5)], ['gunzip', flip(gzipped, gzipped.length - 1)],
    ['inflateRaw', Buffer.from([0xff, 0xff, 0xff])], ['unzip', zlib.deflateRawSync('raw')], ['unzip', Buffer.from([0x78])],
  ];
  const errors = await post('/errors', JSON.stringify(cases.map(([kind, bytes]) => [kind, bytes.toString('base64')])));
  const expected = cases.map(([kind, bytes]) => {
    try {
      (zlib as unknown as Record<string, (input: Buffer) => unknown>)[`${kind}Sync`]!(bytes);
      return 'no error';
    } catch (e) {
      const error = e as Error & { code: string; errno: number };
      return [error.code, error.errno, error.message];
    }
  });
  t.strictSame(errors, expected, "each failure has Node's code, errno and message");

  const misc = await post('/misc', '{}');
  t.strictSame(misc, {
    viaCallback: 'callback text', callbackError: ['Z_DATA_ERROR', true],
    streamed: true, streamError: 'Z_DATA_ERROR',
    crc: [zlib.crc32('hello'), zlib.crc32(' world', zlib.crc32('hello')), zlib.crc32('')],
    constants: [9, -3, -5],
    optionErrors: [
      ['ERR_OUT_OF_RANGE', null, 'The value of "options.level" is out of range. It must be >= -1 and <= 9. Received 11'],
      ['ERR_INVALID_ARG_TYPE', null, 'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type number (5)'],
      ['ERR_BUFFER_TOO_LARGE', null, 'Cannot create a Buffer larger than 10 bytes'],
      ['ERR_INVALID_ARG_TYPE', null, 'The "callback" argument must be of type function. Received undefined'],
    ],
    bomb: ['ERR_BUFFER_TOO_LARGE', null, 'Cannot create a Buffer larger than 1000 bytes', true],
    limitedWhole: [true, 'ERR_BUFFER_TOO_LARGE'],
    classes: [true, 'function', 'InflateRaw'],
  });
});

t.test('node:fs, node:net, node:http and the rest import as on Workers; their functions throw ERR_METHOD_NOT_IMPLEMENTED', async (t) => {
  const source = `import fs, { readFileSync, promises, constants as fsConstants } from 'node:fs';
    import fsPromises from 'fs/promises';
    import os from 'node:os';
    import http, { STATUS_CODES } from 'http';
    import net from 'node:net';
    import { performance as hooksPerformance } from 'node:perf_hooks';
    import dns from 'node:dns';
    import { isMainThread } from 'node:worker_threads';
    import { createRequire, isBuiltin } from 'node:module';
    import events from 'node:events';
    // As ESM packages written for Node do at their top level.
    const require = createRequire(import.meta.url);
    class MySocket extends net.Socket {}
    export default { async fetch() {
      const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.code, e.message, e instanceof Error]; } };
      return Response.json({
        sync: failure(() => readFileSync('/etc/passwd')),
        asDefault: fs.readFileSync === readFileSync,
        rejected: await promises.readFile('/etc/passwd').then(() => 'no error', (e) => [e.code, e.message]),
        samePromises: promises === fsPromises,
        constructed: failure(() => new MySocket()),
        constants: [fsConstants.R_OK, fsConstants.W_OK, STATUS_CODES[404], http.METHODS.includes('PATCH'), dns.NOTFOUND, isMainThread],
        os: [os.platform(), os.EOL, os.type(), os.cpus(), os.tmpdir(), failure(() => os.userInfo())],
        performance: hooksPerformance === performance && typeof hooksPerformance.now(),
        kept: (() => { fsConstants.R_OK = 99; return fs.constants.R_OK; })(),
        names: [readFileSync.name, net.Socket.name],
        require: [require('node:path').join('a', 'b'), require('events') === events, require.resolve('fs'), failure(() => require('left-pad')), isBuiltin('node:os'), isBuiltin('left-pad')],
      });
    } };`;
  const reply = await deployAndCall(t, 'node-stubs', source);
  t.strictSame(reply.json(), {
    sync: ['ERR_METHOD_NOT_IMPLEMENTED', 'The fs.readFileSync method is not implemented', true],
    asDefault: true,
    rejected: ['ERR_METHOD_NOT_IMPLEMENTED', 'The fs/promises.readFile method is not implemented'],
    samePromises: true,
    constructed: ['ERR_METHOD_NOT_IMPLEMENTED', 'The net.Socket method is not implemented', true],
    constants: [4, 2, 'Not Found', true, 'ENOTFOUND', true],
    os: ['linux', '\n', 'Linux', [], '/tmp', ['ERR_METHOD_NOT_IMPLEMENTED', 'The os.userInfo method is not implemented', true]],
    performance: 'number',
    kept: 99,
    names: ['readFileSync', 'Socket'],
    require: ['a/b', true, 'fs', ['MODULE_NOT_FOUND', "Cannot find module 'left-pad'", true], true, false],
  });
});

/** URLs made of the pieces the legacy parser decides on: protocols, slashes, auth, hosts, ports, escapes. */
function urlCases(count: number, seed: number): string[] {
  const tokens = ['http:', 'HTTPS:', 'javascript:', 'mailto:', 'file:', 'x-y+z.1:', '//', '/', '\\', '@', '@@', ':', 'user', 'pa:ss', 'host', 'EXAMPLE.com', 'ä.de', 'xn--nxa', '[::1]', '[', ']', '1.2.3', ':8080', ':99999', '?', 'a=1', '&b', '+', '#', 'frag', ' ', '%41', '%zz', '"', '<', '{', '|', '^', '`', "'", ';', '~', '..', '.', '*', '_', '\t', '\n', '\u00a0', '😀', '\uD800'];
  return tokenStrings(tokens, count, seed, 1, 9);
}

t.test("node:url's legacy parse and format give what Node's give", async (t) => {
  const url = await import('node:url');
  const cases = [
    'http://user:p%20w@host.com:8080/p/a/t/h?query=string#hash', 'HTTP://X.COM', '//foo/bar', 'http://a.com\\b\\c?d\\e', ' http://a.com/ ',
    'http://[::1]:80/a', 'mailto:a@b.c', 'file:///etc/passwd', 'javascript:alert(1)', 'http://ä.com/', 'http://a:b/', '/p?a=1&a=2',
    ...urlCases(3000, 3),
  ];
  // Runs in the worker (its source is pasted there) and here, each with its own node:url.
  function run(input: string[], parse: (u: string, q: boolean, s: boolean) => Record<string, unknown>, format: (o: unknown) => string) {
    return input.map((u, i) => {
      try {
        const parsed = parse(u, i % 2 === 0, i % 3 === 0);
        const fields: Record<string, unknown> = {};
        for (const key of Object.keys(parsed)) fields[key] = key === 'query' && parsed[key] !== null && typeof parsed[key] === 'object' ? Object.entries(parsed[key] as object) : parsed[key];
        return [fields, format(parsed), format(u)];
      } catch (e) {
        return { error: (e as { code?: string }).code ?? String(e) };
      }
    });
  }
  process.noDeprecation = true;
  const expected = JSON.parse(JSON.stringify(run(cases, url.parse as never, url.format as never)));
  const source = `import { parse, format } from 'node:url';
    export default { async fetch(request) { return Response.json(run(await request.json(), parse, format)); } };
    ${run.toString()}`;
  const reply = await deployAndCall(t, 'url-legacy', source, { metadata: { ...NODE_COMPAT, limits: { cpu_ms: 1000 } }, body: JSON.stringify(cases) });
  const actual = reply.json<unknown[]>();
  const differ = actual.map((value, i) => [i, value] as const).filter(([i, value]) => JSON.stringify(value) !== JSON.stringify(expected[i]));
  t.equal(actual.length, expected.length);
  t.same(differ.slice(0, 4).map(([i, value]) => ({ input: cases[i], flags: [i % 2 === 0, i % 3 === 0], got: value, node: expected[i] })), [], `all ${cases.length} URLs parse and format as in Node (${differ.length} differ)`);
});

t.test("node:url's helpers give what Node's give", async (t) => {
  const source = `import url, { fileURLToPath, pathToFileURL, domainToASCII, domainToUnicode, urlToHttpOptions, format, URL as NodeURL } from 'url';
    export default { fetch() {
      const errors = [];
      for (const input of ['https://x.test/a', 'file://host/a', 'file:///a%2Fb', 42]) {
        try { fileURLToPath(input); errors.push('no error'); } catch (e) { errors.push(e.code); }
      }
      return Response.json({
        paths: [fileURLToPath('file:///srv/a%20b.txt'), fileURLToPath(new URL('file://localhost/x'))],
        fileURLs: [pathToFileURL('/srv/a b#c?.txt').href, pathToFileURL('rel/x').href, pathToFileURL('/100%').href],
        errors,
        ascii: [domainToASCII('español.com'), domainToASCII('xn--iñvalid.com'), domainToASCII('a/b')],
        unicode: [domainToUnicode('xn--espaol-zwa.com'), domainToUnicode('example.COM')],
        options: urlToHttpOptions(new URL('https://a:b@[::1]:8080/p?q=1#h')),
        formatted: [
          format(new URL('https://a:b@xn--espaol-zwa.com/p?abc#foo'), { fragment: false, unicode: true, auth: false }),
          format({ protocol: 'https', hostname: 'example.com', pathname: '/some/path', query: { page: 1, format: 'json' } }),
          format({ protocol: 'mailto:', pathname: 'ada@example.com' }),
        ],
        classes: NodeURL === URL && url.URLSearchParams === URLSearchParams,
      });
    } };`;
  const deployed = await deployMultipart(server, 'node-url', NODE_COMPAT, { 'main.js': source });
  t.equal(deployed.status, 201, deployed.text);
  const reply = await send(server, 'node-url.localhost', '/');
  t.equal(reply.status, 200, reply.text);
  t.strictSame(reply.json(), {
    paths: ['/srv/a b.txt', '/x'],
    fileURLs: ['file:///srv/a%20b%23c%3F.txt', 'file:///rel/x', 'file:///100%25'],
    errors: ['ERR_INVALID_URL_SCHEME', 'ERR_INVALID_FILE_URL_HOST', 'ERR_INVALID_FILE_URL_PATH', 'ERR_INVALID_ARG_TYPE'],
    ascii: ['xn--espaol-zwa.com', '', ''],
    unicode: ['español.com', 'example.com'],
    options: { protocol: 'https:', hostname: '::1', hash: '#h', search: '?q=1', pathname: '/p', path: '/p?q=1', href: 'https://a:b@[::1]:8080/p?q=1#h', port: 8080, auth: 'a:b' },
    formatted: ['https://español.com/p?abc', 'https://example.com/some/path?page=1&format=json', 'mailto:ada@example.com'],
    classes: true,
  });
});

t.test('from compatibility date 2026-08-04 on nodejs_compat is on without the flag, as on Workers; no_nodejs_compat turns it off', async (t) => {
  const source = `import { Buffer } from 'node:buffer';
    export default { fetch: () => Response.json({ hex: Buffer.from('A').toString('hex'), globals: [typeof globalThis.Buffer, typeof globalThis.process] }) };`;
  const on = await deployMultipart(server, 'node-by-date', { main_module: 'main.js', compatibility_date: '2026-08-04' }, { 'main.js': source });
  t.equal(on.status, 201, on.text);
  t.strictSame((await send(server, 'node-by-date.localhost', '/')).json(), { hex: '41', globals: ['function', 'object'] });
  const cases: [string, Record<string, unknown>][] = [
    ['the day before', { main_module: 'main.js', compatibility_date: '2026-08-03' }],
    ['opted out', { main_module: 'main.js', compatibility_date: '2026-11-01', compatibility_flags: ['no_nodejs_compat'] }],
  ];
  for (const [what, metadata] of cases) {
    const reply = await deployMultipart(server, 'node-by-date-off', metadata, { 'main.js': source });
    t.equal(reply.status, 400, `${what}: ${reply.text}`);
    t.match(reply.json<{ error: { message: string } }>().error.message, /nodejs_compat compatibility flag .* or a compatibility_date from 2026-08-04 on/, what);
  }
});

t.test('compatibility_flags must be a list of flag names', async (t) => {
  for (const flags of ['nodejs_compat', ['Nodejs-Compat'], [1], Array.from({ length: 65 }, (_, i) => `flag_${i}`)]) {
    const reply = await deployMultipart(server, 'flags', { main_module: 'main.js', compatibility_flags: flags }, { 'main.js': 'export default { fetch: () => new Response("x") }' });
    t.equal(reply.status, 400, JSON.stringify(flags).slice(0, 40));
    const error = reply.json<{ error: { code: string; message: string } }>().error;
    t.equal(error.code, 'ISO_ERR_DEPLOY_METADATA');
    t.match(error.message, /compatibility_flags/);
  }
  const missing = await send(server, 'flags.localhost', '/');
  t.equal(missing.status, 404, 'nothing was stored');
});

t.test('the hook the links read is gone once the worker runs, and a worker that replaces it fools only itself', async (t) => {
  const modules = {
    // Evaluated before main.js's own import of node:util: its replacement is what that link reads.
    'first.js': `export const hookAtTopLevel = typeof globalThis.__isolaneBuiltinModule;
      const real = globalThis.__isolaneBuiltinModule;
      Object.defineProperty(globalThis, '__isolaneBuiltinModule', { value: (name) => (name === 'node:util' ? { default: 'fake', format: () => 'fake' } : real(name)), configurable: true });`,
    'main.js': `import { hookAtTopLevel } from './first.js';
      import { format } from 'node:util';
      import { Buffer } from 'node:buffer';
      export default { fetch() {
        return Response.json({ hookAtTopLevel, hookNow: typeof globalThis.__isolaneBuiltinModule, names: Object.getOwnPropertyNames(globalThis).filter((n) => /isolane/i.test(n)), format: format('%d', 1), hex: Buffer.from('A').toString('hex') });
      } };`,
  };
  const deployed = await deployMultipart(server, 'hook', NODE_COMPAT, modules);
  t.equal(deployed.status, 201, deployed.text);
  const reply = await send(server, 'hook.localhost', '/');
  t.same(reply.json(), { hookAtTopLevel: 'function', hookNow: 'undefined', names: [], format: 'fake', hex: '41' });
  const other = await send(server, 'node-compat.localhost', '/');
  t.equal(other.json<{ format: string }>().format, 'a=42 {"b":[1]} %', "another worker's node:util is its own");
});

t.test('the hook hands out only the modules the worker imports: none without the flag', async (t) => {
  const ASKS = `const ask = (name) => { try { return Object.keys(globalThis.__isolaneBuiltinModule(name)).length > 0 ? 'got' : 'empty' } catch (err) { return err.name } };`;
  // No flag at all: a review had this call return node:zlib's 31 exports and all of node:process.
  const plain = await deployMultipart(server, 'hook-plain', { main_module: 'main.js' }, {
    'main.js': `${ASKS} const asked = [ask('node:zlib'), ask('node:process'), ask('cloudflare:workers')];
      export default { fetch() { return Response.json(asked) } };`,
  });
  t.equal(plain.status, 201, plain.text);
  t.same((await send(server, 'hook-plain.localhost', '/')).json(), ['TypeError', 'TypeError', 'got'], 'only cloudflare:workers');
  // nodejs_als allows node:async_hooks alone: its link works, and the hook gives nothing else.
  const als = await deployMultipart(server, 'hook-als', { main_module: 'main.js', compatibility_flags: ['nodejs_als'] }, {
    'main.js': `import { AsyncLocalStorage } from 'node:async_hooks';
      ${ASKS} const asked = [ask('node:async_hooks'), ask('node:zlib')];
      export default { fetch() { return Response.json([typeof AsyncLocalStorage, ...asked]) } };`,
  });
  t.equal(als.status, 201, als.text);
  t.same((await send(server, 'hook-als.localhost', '/')).json(), ['function', 'got', 'TypeError']);
});

t.test("Node's classes keep their names, as code that checks constructor.name expects", async (t) => {
  const reply = await deployAndCall(
    t,
    'class-names',
    `import { Buffer } from 'node:buffer'; import { EventEmitter } from 'node:events'; import { Readable, Writable, Transform } from 'node:stream';
    import { StringDecoder } from 'node:string_decoder'; import { AsyncLocalStorage } from 'node:async_hooks';
    export default { fetch() { return Response.json([Buffer, EventEmitter, Readable, Writable, Transform, StringDecoder, AsyncLocalStorage].map((c) => c.name).concat(Buffer.from('x').constructor.name)) } }`,
  );
  t.same(reply.json(), ['Buffer', 'EventEmitter', 'Readable', 'Writable', 'Transform', 'StringDecoder', 'AsyncLocalStorage', 'Buffer']);
});

/**
 * crypto.subtle is a runtime chunk (src/isolates/runtime-module-chunks.ts), made the first time a worker
 * uses it, after the worker's own code may have replaced any global. The chunk is handed the runtime's
 * primordials and modules: a replaced JSON, Uint8Array or String.prototype method does not change what
 * it computes, the helpers a bundler would call (Object.create, getOwnPropertyNames, defineProperty, …)
 * never see the runtime's modules, and its classes are the runtime's (CryptoKey), not copies.
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

// Functions the runtime must not call once tenant code may have replaced them: each records its
// receiver and arguments while the crypto calls run, then does its job; others are sabotaged.
const REPLACE = `
  const apply = Reflect.apply;
  const define = Object.defineProperty;
  const push = Array.prototype.push;
  const seen = [];
  let watching = false;
  const note = (receiver, args) => { if (watching) { watching = false; apply(push, seen, [receiver, ...args]); watching = true } };
  const restore = [];
  const replace = (owner, name, value) => { restore.push([owner, name, Object.getOwnPropertyDescriptor(owner, name)]); define(owner, name, { value, writable: true, configurable: true }) };
  const watch = (owner, names) => {
    for (const name of names) {
      const original = owner[name];
      replace(owner, name, function (...args) { note(this, args); return apply(original, this, args) });
    }
  };
  const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
  const Uint8ArrayOriginal = Uint8Array;
  const input = new TextEncoder().encode('abc');
  const keyBytes = new Uint8Array(16).fill(7);
  const iv = new Uint8Array(12);
  watch(Object, ['create', 'getOwnPropertyNames', 'getOwnPropertyDescriptor', 'defineProperty', 'getPrototypeOf', 'keys', 'assign', 'entries', 'freeze']);
  watch(Reflect, ['ownKeys', 'get', 'apply', 'construct']);
  watch(Array.prototype, ['push', 'map', 'forEach', 'join', 'slice', 'indexOf', 'includes', 'fill']);
  watch(TypedArrayPrototype, ['set', 'subarray', 'slice']);
  // Sabotaged: a table built with these, or a result computed with them, would come out wrong.
  replace(TypedArrayPrototype, 'fill', function (...args) { note(this, args); return this });
  for (const name of ['parse', 'stringify']) replace(JSON, name, () => { throw new Error('the tenant JSON') });
  for (const name of ['toUpperCase', 'toLowerCase']) replace(String.prototype, name, () => 'TENANT');
  replace(String.prototype, 'charCodeAt', () => 0);
  replace(Math, 'trunc', () => 1);
  replace(globalThis, 'Uint8Array', function () { throw new Error('the tenant Uint8Array') });
  replace(globalThis, 'Promise', function () { throw new Error('the tenant Promise') });
  restore.push([globalThis, 'Int8Array', Object.getOwnPropertyDescriptor(globalThis, 'Int8Array')]);
  delete globalThis.Int8Array;
  // An index an array of the runtime's would be written at.
  restore.push([Array.prototype, '5', undefined]);
  define(Array.prototype, '5', { configurable: true, set(value) { note(this, [value]); define(this, '5', { value, writable: true, enumerable: true, configurable: true }) } });
  const hex = (buffer) => Array.from(new Uint8ArrayOriginal(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
`;

t.test('crypto.subtle made after the worker replaced globals: the runtime primordials, no replaced function called', async (t) => {
  const ev = await Evaluator.create();
  t.teardown(() => ev.dispose());
  const result = ev.run(`
    ${REPLACE}
    let results;
    try {
      watching = true;
      const digest = await crypto.subtle.digest('sha-256', input);
      const hmac = await crypto.subtle.importKey('raw', keyBytes, { name: 'hmac', hash: 'sha-256' }, true, ['sign', 'verify']);
      const signature = await crypto.subtle.sign('HMAC', hmac, input);
      const verified = await crypto.subtle.verify('HMAC', hmac, signature, input);
      const jwk = await crypto.subtle.exportKey('jwk', hmac);
      const imported = await crypto.subtle.importKey('jwk', { kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODw', alg: 'HS256' }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
      const raw = await crypto.subtle.exportKey('raw', imported);
      const aes = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
      const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, input);
      const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, aes, sealed);
      watching = false;
      results = { digest, verified, jwk, raw, opened, hmac };
    } finally {
      watching = false;
      for (const [owner, name, descriptor] of restore.reverse()) {
        if (descriptor === undefined) delete owner[name];
        else Object.defineProperty(owner, name, descriptor);
      }
    }
    return {
      digest: hex(results.digest), verified: results.verified, jwk: [results.jwk.kty, results.jwk.alg, results.jwk.k],
      raw: hex(results.raw), opened: new TextDecoder().decode(results.opened),
      calls: seen.length, seen: seen.slice(0, 6).map((value) => Object.prototype.toString.call(value)),
      classes: [crypto.subtle instanceof SubtleCrypto, results.hmac instanceof CryptoKey, SubtleCrypto.name, Object.prototype.toString.call(crypto.subtle), crypto.subtle === crypto.subtle],
    };
  `) as Record<string, unknown>;
  t.equal(result.digest, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 of abc');
  t.equal(result.verified, true, 'HMAC signed and verified');
  t.same(result.jwk, ['oct', 'HS256', 'BwcHBwcHBwcHBwcHBwcHBw'], 'the JWK export (base64url, upper-cased and serialized by the runtime, not the tenant)');
  t.equal(result.raw, '000102030405060708090a0b0c0d0e0f', 'a JWK import decodes k with the runtime\'s own table');
  t.equal(result.opened, 'abc', 'AES-GCM sealed and opened');
  t.equal(result.calls, 0, `no replaced function was called by the runtime (${JSON.stringify(result.seen)})`);
  t.same(result.classes, [true, true, 'SubtleCrypto', '[object SubtleCrypto]', true]);
});

t.test('SubtleCrypto is a global from the start, made on first read; its constructor is illegal', async (t) => {
  const ev = await Evaluator.create();
  t.teardown(() => ev.dispose());
  const result = ev.run(`
    const before = typeof Object.getOwnPropertyDescriptor(globalThis, 'SubtleCrypto').get;
    let thrown = null;
    try { new SubtleCrypto() } catch (err) { thrown = err.constructor.name }
    return [before, 'SubtleCrypto' in globalThis, typeof SubtleCrypto, thrown, Object.getPrototypeOf(crypto.subtle) === SubtleCrypto.prototype];
  `);
  t.same(result, ['function', true, 'function', 'TypeError', true]);
});

t.test('reading crypto.subtle and its methods does not make the chunk; the first call does, once', async (t) => {
  const ev = await Evaluator.create();
  t.teardown(() => ev.dispose());
  const asked = () => ev.worker.calls.filter(([op, name]) => op === 'runtimeChunk' && name === 'web-crypto').length;
  // What libraries do when they load: feature detection (Hono's etag(), its jwt middleware).
  const detected = ev.run(`
    const subtle = crypto.subtle;
    return [typeof subtle.digest, typeof subtle.importKey, subtle instanceof SubtleCrypto, Object.getPrototypeOf(subtle) === SubtleCrypto.prototype,
      Object.getOwnPropertyNames(SubtleCrypto.prototype).sort().join(),
      ['encrypt', 'decrypt', 'sign', 'verify', 'digest', 'generateKey', 'deriveKey', 'deriveBits', 'importKey', 'exportKey', 'wrapKey', 'unwrapKey', 'timingSafeEqual'].map((name) => subtle[name].length).join()];
  `);
  t.same(detected, [
    'function', 'function', true, true,
    'constructor,decrypt,deriveBits,deriveKey,digest,encrypt,exportKey,generateKey,importKey,sign,timingSafeEqual,unwrapKey,verify,wrapKey',
    '3,3,3,4,2,3,5,2,5,2,4,7,2',
  ], 'the interface as the Web Crypto spec has it');
  t.equal(asked(), 0, 'the chunk is not made by reading the interface');
  const results = ev.run(`
    const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
    const digest = hex(await crypto.subtle.digest('SHA-1', new Uint8Array(0)));
    let missing = null;
    await crypto.subtle.digest('SHA-1').catch((err) => { missing = err.constructor.name + ': ' + err.message });
    const same = crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
    return [digest, missing, same];
  `);
  t.same(results, ['da39a3ee5e6b4b0d3255bfef95601890afd80709', "TypeError: Failed to execute 'digest' on 'SubtleCrypto': 2 arguments required, but only 1 present.", true], 'the methods do the work, with the argument count the worker passed');
  t.equal(asked(), 1, 'the chunk was made once, on the first call');
});

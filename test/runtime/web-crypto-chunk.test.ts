/**
 * crypto.subtle is a runtime chunk (src/isolates/runtime-module-chunks.ts), made the first time a worker
 * uses it, after the worker's own code may have replaced any global. The chunk is handed the runtime's
 * primordials and modules: a replaced JSON, Uint8Array or String.prototype method does not change what
 * it computes, the helpers a bundler would call (Object.create, getOwnPropertyNames, defineProperty, …)
 * never see the runtime's modules, and its classes are the runtime's (CryptoKey), not copies.
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

// Every argument the replaced functions see is kept; the runtime's given modules are keyed by file.
const REPLACE = `
  const seen = [];
  const restore = [];
  const replace = (owner, name, value) => { restore.push([owner, name, owner[name]]); owner[name] = value };
  for (const [owner, names] of [[Object, ['create', 'getOwnPropertyNames', 'getOwnPropertyDescriptor', 'defineProperty', 'getPrototypeOf', 'keys', 'assign', 'entries', 'freeze']], [Reflect, ['ownKeys', 'get', 'apply', 'construct']]]) {
    for (const name of names) {
      const original = owner[name];
      replace(owner, name, function (...args) { seen.push(...args); return Reflect.apply(original, this, args) });
    }
  }
  const input = new TextEncoder().encode('abc');
  const keyBytes = new Uint8Array(16).fill(7);
  for (const name of ['parse', 'stringify']) replace(JSON, name, () => { throw new Error('the tenant JSON') });
  for (const name of ['toUpperCase', 'toLowerCase']) replace(String.prototype, name, () => 'TENANT');
  replace(Math, 'trunc', () => 1);
  replace(globalThis, 'Uint8Array', function () { throw new Error('the tenant Uint8Array') });
  replace(globalThis, 'Promise', function () { throw new Error('the tenant Promise') });
  const hex = (buffer) => Array.from(new Uint8ArrayOriginal(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
`;

t.test('crypto.subtle made after the worker replaced globals: the runtime primordials, nothing handed out', async (t) => {
  const ev = await Evaluator.create();
  t.teardown(() => ev.dispose());
  const result = ev.run(`
    const Uint8ArrayOriginal = Uint8Array;
    ${REPLACE}
    try {
    const digest = hex(await crypto.subtle.digest('sha-256', input));
    const hmac = await crypto.subtle.importKey('raw', keyBytes, { name: 'hmac', hash: 'sha-256' }, true, ['sign', 'verify']);
    const signature = await crypto.subtle.sign('HMAC', hmac, input);
    const verified = await crypto.subtle.verify('HMAC', hmac, signature, input);
    const jwk = await crypto.subtle.exportKey('jwk', hmac);
    const aes = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const iv = new Uint8ArrayOriginal(12);
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, input);
    const opened = new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, aes, sealed));
    const leaked = seen.filter((value) => (typeof value === 'object' || typeof value === 'function') && value !== null && ['runtime/primordials.ts', 'runtime/bridge.ts', 'hostDigest', 'make'].some((key) => Object.prototype.hasOwnProperty.call(value, key)));
    return {
      digest, verified, jwk: [jwk.kty, jwk.alg, jwk.k], opened,
      leaked: leaked.length,
      classes: [crypto.subtle instanceof SubtleCrypto, hmac instanceof CryptoKey, SubtleCrypto.name, Object.prototype.toString.call(crypto.subtle), crypto.subtle === crypto.subtle],
    };
    } finally {
      for (const [owner, name, value] of restore.reverse()) owner[name] = value;
    }
  `) as Record<string, unknown>;
  t.equal(result.digest, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 of abc');
  t.equal(result.verified, true, 'HMAC signed and verified');
  t.same(result.jwk, ['oct', 'HS256', 'BwcHBwcHBwcHBwcHBwcHBw'], 'the JWK export (upper-cased and parsed by the runtime, not the tenant)');
  t.equal(result.opened, 'abc', 'AES-GCM sealed and opened');
  t.equal(result.leaked, 0, "no replaced function saw a runtime module, the bridge or the chunk's make");
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

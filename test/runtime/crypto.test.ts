import { constants, createCipheriv, createHash, generateKeyPairSync, hkdfSync, pbkdf2Sync, randomBytes, sign, verify } from 'node:crypto';
import t, { type Test } from 'tap';
import { hostCrypto, MAX_DIGEST_BYTES } from '../../src/isolates/host-crypto.ts';
import { bundleWorker } from '../helpers/bundle.ts';
import { Evaluator, TestWorker } from './harness.ts';

t.test('crypto.getRandomValues and randomUUID', async (t) => {
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(`export default { fetch() {
    const a = crypto.getRandomValues(new Uint8Array(32));
    const b = crypto.getRandomValues(new Uint32Array(4));
    const uuids = [crypto.randomUUID(), crypto.randomUUID()];
    const errors = [];
    try { crypto.getRandomValues(new Float64Array(2)) } catch (e) { errors.push(e.name) }
    try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { errors.push(e.name) }
    try { new Crypto() } catch (e) { errors.push(e.name) }
    try { crypto.getRandomValues() } catch (e) { errors.push(e.name) }
    const big = crypto.getRandomValues(new Uint8Array(65536));
    return Response.json({ a: [...a], b: [...b], uuids, errors, bigNonZero: big.some((x) => x !== 0), tag: String(crypto) });
  } }`);
  const body = JSON.parse(worker.fetch('http://x/').body as string);
  t.equal(body.a.length, 32);
  t.ok(body.a.some((x: number) => x !== 0), 'bytes are not all zero');
  t.equal(body.b.length, 4);
  for (const uuid of body.uuids) t.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(body.uuids[0], body.uuids[1]);
  t.same(body.errors, ['TypeMismatchError', 'QuotaExceededError', 'TypeError', 'TypeError'], 'no argument: a TypeError, as WebIDL has it');
  t.equal(body.bigNonZero, true);
  t.equal(body.tag, '[object Crypto]');
});

t.test('performance.now is whole milliseconds from timeOrigin', async (t) => {
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(`export default { fetch() {
    const samples = [];
    for (let i = 0; i < 2000; i++) samples.push(performance.now());
    return Response.json({ whole: samples.every((s) => Number.isInteger(s)), origin: performance.timeOrigin, monotonic: samples.every((s, i) => i === 0 || s >= samples[i - 1]) });
  } }`);
  const body = JSON.parse(worker.fetch('http://x/').body as string);
  t.equal(body.whole, true, 'no sub-millisecond resolution');
  t.equal(body.monotonic, true);
  t.ok(Math.abs(body.origin - Date.now()) < 60_000);
});

t.test('crypto.subtle.digest known answers (FIPS 180 "abc")', async (t) => {
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(`export default { async fetch() {
    const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const data = new TextEncoder().encode('abc');
    const out = {};
    for (const name of ['SHA-1', 'sha-256', 'SHA-384', 'SHA-512']) out[name] = hex(await crypto.subtle.digest(name, data));
    out.object = hex(await crypto.subtle.digest({ name: 'SHA-256' }, data.buffer));
    out.errors = [];
    out.md5 = hex(await crypto.subtle.digest('MD5', data));
    try { await crypto.subtle.importKey('raw', data, { name: 'HMAC', hash: 'MD5' }, false, ['sign']) } catch (e) { out.errors.push(e.name) }
    try { await crypto.subtle.digest('SHA-256', 'abc') } catch (e) { out.errors.push(e.name) }
    return Response.json(out);
  } }`);
  const answer = worker.fetch('http://x/', {}, 10);
  const body = JSON.parse(answer.body as string);
  t.equal(body.md5, '900150983cd24fb0d6963f7d28e17f72', 'MD5, as on Workers');
  t.equal(body['SHA-1'], 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.equal(body['sha-256'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(body['SHA-384'], 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7');
  t.equal(body['SHA-512'], 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
  t.equal(body.object, body['sha-256']);
  t.same(body.errors, ['NotSupportedError', 'TypeError']);
});

// ---- crypto.subtle: keys, signatures, ciphers -------------------------------------------------------

/** Helpers prepended to every snippet run in the isolate: hex <-> bytes, text bytes, error names. */
const PRELUDE = `
  const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const bytes = (text) => new Uint8Array(text.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  const utf8 = (text) => new TextEncoder().encode(text);
  const nameOf = async (promise) => { try { await promise; return 'resolved'; } catch (e) { return e.name; } };
  const s = crypto.subtle;
`;

async function evaluator(t: Test): Promise<(code: string) => unknown> {
  const e = await Evaluator.create();
  t.teardown(() => e.dispose());
  return (code) => e.run(PRELUDE + code);
}

const hex = (bytes: Uint8Array | ArrayBuffer) => Buffer.from(bytes as Uint8Array).toString('hex');

t.test('HMAC known answers (RFC 4231 test cases 1, 2, 3, 6; RFC 2202 case 1 for SHA-1)', async (t) => {
  const run = await evaluator(t);
  const cases = [
    { key: '0b'.repeat(20), data: hex(Buffer.from('Hi There')), macs: {
      'SHA-1': 'b617318655057264e28bc0b6fb378c8ef146be00',
      'SHA-256': 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      'SHA-384': 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
      'SHA-512': '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    } },
    { key: hex(Buffer.from('Jefe')), data: hex(Buffer.from('what do ya want for nothing?')), macs: {
      'SHA-256': '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      'SHA-384': 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
      'SHA-512': '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    } },
    { key: 'aa'.repeat(20), data: 'dd'.repeat(50), macs: {
      'SHA-256': '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
      'SHA-512': 'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb',
    } },
    { key: 'aa'.repeat(131), data: hex(Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')), macs: {
      'SHA-256': '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      'SHA-384': '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952',
      'SHA-512': '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
    } },
  ];
  const got = run(`
    const cases = ${JSON.stringify(cases)};
    const out = [];
    for (const c of cases) {
      for (const hash of Object.keys(c.macs)) {
        const key = await s.importKey('raw', bytes(c.key), { name: 'hmac', hash }, false, ['sign', 'verify']);
        const mac = await s.sign('HMAC', key, bytes(c.data));
        const valid = await s.verify({ name: 'HMAC' }, key, bytes(c.macs[hash]), bytes(c.data));
        const wrong = bytes(c.macs[hash]); wrong[0] ^= 1;
        const invalid = await s.verify('HMAC', key, wrong, bytes(c.data));
        const short = await s.verify('HMAC', key, bytes(c.macs[hash]).slice(1), bytes(c.data));
        out.push({ hash, mac: hex(mac), valid, invalid, short, length: key.algorithm.length, hashName: key.algorithm.hash.name });
      }
    }
    return out;
  `) as { hash: string; mac: string; valid: boolean; invalid: boolean; short: boolean; length: number; hashName: string }[];
  const expected = cases.flatMap((c) => Object.entries(c.macs).map(([hash, mac]) => ({ hash, mac, valid: true, invalid: false, short: false, length: c.key.length * 4, hashName: hash })));
  t.same(got, expected);
});

t.test('AES-GCM known answers (GCM spec test cases 2, 4 and 16) and round trips', async (t) => {
  const run = await evaluator(t);
  const plaintext = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
  const aad = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
  const got = run(`
    const vectors = [
      { key: '00'.repeat(16), iv: '00'.repeat(12), p: '00'.repeat(16) },
      { key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', p: '${plaintext}', a: '${aad}' },
      { key: 'feffe9928665731c6d6a8f9467308308'.repeat(2), iv: 'cafebabefacedbaddecaf888', p: '${plaintext}', a: '${aad}' },
    ];
    const out = [];
    for (const v of vectors) {
      const key = await s.importKey('raw', bytes(v.key), 'AES-GCM', false, ['encrypt', 'decrypt']);
      const params = { name: 'AES-GCM', iv: bytes(v.iv), ...(v.a ? { additionalData: bytes(v.a) } : {}) };
      const sealed = await s.encrypt(params, key, bytes(v.p));
      const opened = await s.decrypt(params, key, sealed);
      const tampered = new Uint8Array(sealed).slice(); tampered[0] ^= 1;
      out.push({ sealed: hex(sealed), opened: hex(opened), tampered: await nameOf(s.decrypt(params, key, tampered)), bits: key.algorithm.length });
    }
    // Shorter tags and no additional data; a tag of the wrong length fails.
    const key = await s.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt', 'decrypt']);
    const short = await s.encrypt({ name: 'AES-GCM', iv: bytes('01'.repeat(12)), tagLength: 96 }, key, utf8('hello'));
    const back = await s.decrypt({ name: 'AES-GCM', iv: bytes('01'.repeat(12)), tagLength: 96 }, key, short);
    const wrongTag = await nameOf(s.decrypt({ name: 'AES-GCM', iv: bytes('01'.repeat(12)) }, key, short));
    const raw = await s.exportKey('raw', key);
    return { out, short: short.byteLength, back: new TextDecoder().decode(back), wrongTag, raw: raw.byteLength };
  `) as { out: { sealed: string; opened: string; tampered: string; bits: number }[]; short: number; back: string; wrongTag: string; raw: number };
  t.same(got.out, [
    { sealed: '0388dace60b6a392f328c2b971b2fe78' + 'ab6e47d42cec13bdf53a67b21257bddf', opened: '00'.repeat(16), tampered: 'OperationError', bits: 128 },
    { sealed: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' + '5bc94fbc3221a5db94fae95ae7121a47', opened: plaintext, tampered: 'OperationError', bits: 128 },
    { sealed: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' + '76fc6ece0f4e1768cddf8853bb2d551b', opened: plaintext, tampered: 'OperationError', bits: 256 },
  ]);
  t.equal(got.short, 5 + 12, '96-bit tag');
  t.equal(got.back, 'hello');
  t.equal(got.wrongTag, 'OperationError');
  t.equal(got.raw, 16);
});

t.test('AES-CBC round trip agrees with node:crypto', async (t) => {
  const run = await evaluator(t);
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const got = run(`
    const key = await s.importKey('jwk', { kty: 'oct', k: '${key.toString('base64url')}', alg: 'A256CBC' }, 'AES-CBC', false, ['encrypt', 'decrypt']);
    const sealed = await s.encrypt({ name: 'AES-CBC', iv: bytes('${hex(iv)}') }, key, utf8('sixteen bytes!!!+'));
    const opened = await s.decrypt({ name: 'AES-CBC', iv: bytes('${hex(iv)}') }, key, sealed);
    const badIv = await nameOf(s.encrypt({ name: 'AES-CBC', iv: new Uint8Array(12) }, key, utf8('x')));
    return { sealed: hex(sealed), opened: new TextDecoder().decode(opened), badIv };
  `) as { sealed: string; opened: string; badIv: string };
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  t.equal(got.sealed, hex(Buffer.concat([cipher.update('sixteen bytes!!!+'), cipher.final()])));
  t.equal(got.opened, 'sixteen bytes!!!+');
  t.equal(got.badIv, 'OperationError');
});

t.test('ECDSA: node:crypto signatures verify in the isolate and the other way round (P-256, P-384, P-521)', async (t) => {
  const run = await evaluator(t);
  for (const [curve, hash] of [['P-256', 'SHA-256'], ['P-384', 'SHA-384'], ['P-521', 'SHA-512']] as const) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const data = Buffer.from(`message for ${curve}`);
    const nodeHash = hash.replace('-', '').toLowerCase();
    const signature = sign(nodeHash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const got = run(`
      const alg = { name: 'ECDSA', namedCurve: '${curve}' };
      const params = { name: 'ECDSA', hash: '${hash}' };
      const fromSpki = await s.importKey('spki', bytes('${hex(spki)}'), alg, true, ['verify']);
      const fromJwk = await s.importKey('jwk', ${JSON.stringify(publicKey.export({ format: 'jwk' }))}, alg, true, ['verify']);
      const fromRaw = await s.importKey('raw', bytes('${hex(publicKey.export({ format: 'jwk' }).x ? Buffer.concat([Buffer.of(4), Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'), Buffer.from(publicKey.export({ format: 'jwk' }).y!, 'base64url')]) : Buffer.alloc(0))}'), alg, true, ['verify']);
      const signature = bytes('${hex(signature)}');
      const data = bytes('${hex(data)}');
      const tampered = signature.slice(); tampered[5] ^= 1;
      const privateKey = await s.importKey('pkcs8', bytes('${hex(pkcs8)}'), alg, true, ['sign']);
      const mine = await s.sign(params, privateKey, data);
      return {
        spki: await s.verify(params, fromSpki, signature, data),
        jwk: await s.verify(params, fromJwk, signature, data),
        raw: await s.verify(params, fromRaw, signature, data),
        tampered: await s.verify(params, fromSpki, tampered, data),
        otherData: await s.verify(params, fromSpki, signature, utf8('other')),
        mine: hex(mine),
        spkiBack: hex(await s.exportKey('spki', fromJwk)),
        pkcs8Type: privateKey.type,
        algorithm: privateKey.algorithm,
      };
    `) as Record<string, unknown>;
    t.equal(got.spki, true, `${curve} spki`);
    t.equal(got.jwk, true, `${curve} jwk`);
    t.equal(got.raw, true, `${curve} raw`);
    t.equal(got.tampered, false, `${curve} tampered`);
    t.equal(got.otherData, false, `${curve} other data`);
    t.equal(verify(nodeHash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(got.mine as string, 'hex')), true, `${curve} isolate signature verifies in node`);
    t.equal(got.spkiBack, hex(spki), `${curve} spki export`);
    t.equal(got.pkcs8Type, 'private');
    t.same(got.algorithm, { name: 'ECDSA', namedCurve: curve });
  }
});

t.test('RSASSA-PKCS1-v1_5 and RSA-PSS: node:crypto signatures verify in the isolate, isolate signatures in node', async (t) => {
  const run = await evaluator(t);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const data = Buffer.from('rsa message');
  for (const hash of ['SHA-256', 'SHA-384', 'SHA-512']) {
    const nodeHash = hash.replace('-', '').toLowerCase();
    const pkcs1 = sign(nodeHash, data, privateKey);
    const pss = sign(nodeHash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const got = run(`
      const data = bytes('${hex(data)}');
      const v15 = await s.importKey('spki', bytes('${hex(spki)}'), { name: 'RSASSA-PKCS1-v1_5', hash: '${hash}' }, true, ['verify']);
      const pss = await s.importKey('jwk', ${JSON.stringify(publicKey.export({ format: 'jwk' }))}, { name: 'RSA-PSS', hash: '${hash}' }, true, ['verify']);
      const signer = await s.importKey('pkcs8', bytes('${hex(pkcs8)}'), { name: 'RSASSA-PKCS1-v1_5', hash: '${hash}' }, false, ['sign']);
      const pssSigner = await s.importKey('pkcs8', bytes('${hex(pkcs8)}'), { name: 'RSA-PSS', hash: '${hash}' }, false, ['sign']);
      const tampered = bytes('${hex(pkcs1)}'); tampered[0] ^= 1;
      return {
        pkcs1: await s.verify('RSASSA-PKCS1-v1_5', v15, bytes('${hex(pkcs1)}'), data),
        tampered: await s.verify('RSASSA-PKCS1-v1_5', v15, tampered, data),
        short: await s.verify('RSASSA-PKCS1-v1_5', v15, bytes('00'), data),
        pss: await s.verify({ name: 'RSA-PSS', saltLength: 32 }, pss, bytes('${hex(pss)}'), data),
        pssWrongSalt: await s.verify({ name: 'RSA-PSS', saltLength: 20 }, pss, bytes('${hex(pss)}'), data),
        mine: hex(await s.sign('RSASSA-PKCS1-v1_5', signer, data)),
        minePss: hex(await s.sign({ name: 'RSA-PSS', saltLength: 32 }, pssSigner, data)),
        algorithm: { ...v15.algorithm, publicExponent: [...v15.algorithm.publicExponent] },
        jwk: await s.exportKey('jwk', v15),
      };
    `) as Record<string, unknown>;
    t.equal(got.pkcs1, true, `${hash} PKCS#1 v1.5`);
    t.equal(got.tampered, false);
    t.equal(got.short, false);
    t.equal(got.pss, true, `${hash} PSS`);
    t.equal(got.pssWrongSalt, false);
    t.equal(verify(nodeHash, data, publicKey, Buffer.from(got.mine as string, 'hex')), true, `${hash} isolate PKCS#1 v1.5 signature verifies in node`);
    t.equal(verify(nodeHash, data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(got.minePss as string, 'hex')), true, `${hash} isolate PSS signature verifies in node`);
    t.same(got.algorithm, { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: [1, 0, 1], hash: { name: hash } });
    t.same(got.jwk, { ...publicKey.export({ format: 'jwk' }), alg: `RS${hash.slice(4)}`, key_ops: ['verify'], ext: true });
  }
});

t.test('JWK import/export round trips and spki/pkcs8 exports', async (t) => {
  const run = await evaluator(t);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const got = run(`
    const roundTrip = async (jwk, alg, usages) => s.exportKey('jwk', await s.importKey('jwk', jwk, alg, true, usages));
    const ecPrivate = ${JSON.stringify(ec.privateKey.export({ format: 'jwk' }))};
    const rsaPrivate = ${JSON.stringify(rsa.privateKey.export({ format: 'jwk' }))};
    const ecKey = await s.importKey('jwk', ecPrivate, { name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign']);
    const rsaKey = await s.importKey('jwk', rsaPrivate, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
    return {
      hmac: await roundTrip({ kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODw', alg: 'HS512', ext: true }, { name: 'HMAC', hash: 'SHA-512' }, ['verify', 'sign']),
      aes: await roundTrip({ kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYX', key_ops: ['decrypt', 'encrypt'] }, 'AES-GCM', ['decrypt']),
      ec: await s.exportKey('jwk', ecKey),
      rsa: await s.exportKey('jwk', rsaKey),
      ecPkcs8: hex(await s.exportKey('pkcs8', ecKey)),
      rsaPkcs8: hex(await s.exportKey('pkcs8', rsaKey)),
      hmacGenerated: await s.exportKey('jwk', await s.generateKey({ name: 'HMAC', hash: 'SHA-384' }, true, ['sign'])),
      hmacLength: (await s.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 100 }, true, ['sign'])).algorithm,
    };
  `) as Record<string, Record<string, unknown>>;
  t.same(got.hmac, { kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODw', alg: 'HS512', key_ops: ['sign', 'verify'], ext: true });
  t.same(got.aes, { kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYX', alg: 'A192GCM', key_ops: ['decrypt'], ext: true });
  t.same(got.ec, { ...ec.privateKey.export({ format: 'jwk' }), key_ops: ['sign'], ext: true });
  t.same(got.rsa, { ...rsa.privateKey.export({ format: 'jwk' }), alg: 'RS256', key_ops: ['sign'], ext: true });
  t.equal(got.ecPkcs8, hex(ec.privateKey.export({ type: 'pkcs8', format: 'der' })));
  t.equal(got.rsaPkcs8, hex(rsa.privateKey.export({ type: 'pkcs8', format: 'der' })));
  t.equal(got.hmacGenerated!.alg, 'HS384');
  t.equal(Buffer.from(got.hmacGenerated!.k as string, 'base64url').length, 128, 'SHA-384 block size');
  t.same(got.hmacLength, { name: 'HMAC', length: 100, hash: { name: 'SHA-256' } });
});

t.test('CryptoKey: attributes, no constructor, cached algorithm and usages, material out of reach', async (t) => {
  const run = await evaluator(t);
  const got = run(`
    const key = await s.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-1' }, false, ['verify', 'sign', 'sign']);
    key.algorithm.name = 'AES-GCM';
    key.usages.length = 0;
    const mac = await s.sign('HMAC', key, utf8('x'));
    const again = await s.sign('HMAC', key, utf8('x'));
    return {
      ctor: await nameOf((async () => new CryptoKey())()),
      type: key.type, extractable: key.extractable,
      sameAlgorithm: key.algorithm === key.algorithm, sameUsages: key.usages === key.usages,
      tag: Object.prototype.toString.call(key), instance: key instanceof CryptoKey,
      own: Reflect.ownKeys(key).length, protoKeys: Object.getOwnPropertyNames(CryptoKey.prototype).sort(),
      stable: hex(mac) === hex(again),
      forged: await nameOf(s.sign('HMAC', Object.create(CryptoKey.prototype), utf8('x'))),
      getter: await nameOf((async () => Object.getOwnPropertyDescriptor(CryptoKey.prototype, 'type').get.call({}))()),
    };
  `);
  t.same(got, {
    ctor: 'TypeError', type: 'secret', extractable: false, sameAlgorithm: true, sameUsages: true,
    tag: '[object CryptoKey]', instance: true, own: 0,
    protoKeys: ['algorithm', 'constructor', 'extractable', 'type', 'usages'],
    stable: true, forged: 'TypeError', getter: 'TypeError',
  });
});

t.test('errors have the WebCrypto names', async (t) => {
  const run = await evaluator(t);
  const got = run(`
    const hmac = await s.importKey('raw', utf8('secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const aes = await s.importKey('raw', new Uint8Array(16), 'AES-GCM', true, ['encrypt']);
    const ec = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const ecJwk = await s.exportKey('jwk', ec.publicKey);
    const otherEc = await s.exportKey('jwk', (await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])).privateKey);
    const hmacJwk = { kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' };
    const iv = new Uint8Array(12);
    return {
      unknownAlgorithm: await nameOf(s.importKey('raw', utf8('k'), 'PBKDF3', false, ['sign'])),
      ecdhNoPublic: await nameOf(s.deriveBits({ name: 'ECDH' }, hmac, 8)),
      ecdhPublicNotAKey: await nameOf(s.deriveBits({ name: 'ECDH', public: {} }, (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])).privateKey, 8)),
      ecdhOtherCurve: await nameOf(s.deriveBits({ name: 'ECDH', public: (await s.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits'])).publicKey }, (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])).privateKey, 8)),
      ecdhPublicBase: await nameOf((async () => { const pair = await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']); return s.deriveBits({ name: 'ECDH', public: pair.publicKey }, pair.publicKey, 8); })()),
      ecdhTooLong: await nameOf((async () => { const pair = await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']); return s.deriveBits({ name: 'ECDH', public: pair.publicKey }, pair.privateKey, 512); })()),
      ecdhPublicUsage: await nameOf(s.importKey('raw', new Uint8Array(32), 'X25519', false, ['deriveBits'])),
      x25519SmallOrder: await nameOf((async () => { const own = await s.generateKey('X25519', false, ['deriveBits']); const zero = await s.importKey('raw', new Uint8Array(32), 'X25519', false, []); return s.deriveBits({ name: 'X25519', public: zero }, own.privateKey, 256); })()),
      deriveKey: await nameOf(s.deriveKey({ name: 'X25519' }, hmac, 'AES-GCM', false, ['encrypt'])),
      wrapKey: await nameOf(s.wrapKey('raw', aes, aes, 'AES-KW')),
      unwrapKey: await nameOf(s.unwrapKey()),
      wrapNotExtractable: await nameOf(s.wrapKey('raw', hmac, await s.importKey('raw', new Uint8Array(16), 'AES-KW', false, ['wrapKey']), 'AES-KW')),
      kwForEncrypt: await nameOf(s.importKey('raw', new Uint8Array(16), 'AES-KW', false, ['encrypt'])),
      ctrCounter: await nameOf(s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(8), length: 64 }, await s.importKey('raw', new Uint8Array(16), 'AES-CTR', false, ['encrypt']), utf8('x'))),
      ctrLength: await nameOf(s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 0 }, await s.importKey('raw', new Uint8Array(16), 'AES-CTR', false, ['encrypt']), utf8('x'))),
      hmacSpki: await nameOf(s.importKey('spki', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      badCurve: await nameOf(s.importKey('raw', new Uint8Array(65), { name: 'ECDSA', namedCurve: 'P-999' }, false, ['verify'])),
      unknownHash: await nameOf(s.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'MD5' }, false, ['sign'])),
      rsaRaw: await nameOf(s.importKey('raw', new Uint8Array(10), { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify'])),
      hmacForEncrypt: await nameOf(s.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['encrypt'])),
      noUsages: await nameOf(s.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, [])),
      generateNoUsages: await nameOf(s.generateKey({ name: 'AES-GCM', length: 128 }, false, [])),
      pairNoSign: await nameOf(s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])),
      spkiForSign: await nameOf(s.importKey('spki', new Uint8Array(10), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])),
      publicJwkForSign: await nameOf(s.importKey('jwk', ecJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])),
      aesShort: await nameOf(s.importKey('raw', new Uint8Array(10), 'AES-GCM', false, ['encrypt'])),
      emptyHmac: await nameOf(s.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      hmacLength: await nameOf(s.importKey('raw', new Uint8Array(4), { name: 'HMAC', hash: 'SHA-256', length: 16 }, false, ['sign'])),
      jwkKty: await nameOf(s.importKey('jwk', { ...hmacJwk, kty: 'EC' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      jwkAlg: await nameOf(s.importKey('jwk', hmacJwk, { name: 'HMAC', hash: 'SHA-512' }, false, ['sign'])),
      jwkNoK: await nameOf(s.importKey('jwk', { kty: 'oct' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      jwkBadK: await nameOf(s.importKey('jwk', { kty: 'oct', k: 'a+b/' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      jwkExt: await nameOf(s.importKey('jwk', { ...hmacJwk, ext: false }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])),
      jwkKeyOps: await nameOf(s.importKey('jwk', { ...hmacJwk, key_ops: ['verify'] }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      jwkUse: await nameOf(s.importKey('jwk', { ...hmacJwk, use: 'enc' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      jwkCrv: await nameOf(s.importKey('jwk', ecJwk, { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify'])),
      jwkOffCurve: await nameOf(s.importKey('jwk', { ...ecJwk, y: ecJwk.x }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])),
      jwkWrongD: await nameOf(s.importKey('jwk', { ...ecJwk, d: otherEc.d }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])),
      badSpki: await nameOf(s.importKey('spki', utf8('not der'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])),
      badPoint: await nameOf(s.importKey('raw', new Uint8Array(65).fill(1), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])),
      jwkAsBytes: await nameOf(s.importKey('jwk', new Uint8Array(4), 'AES-GCM', false, ['encrypt'])),
      bytesAsJwk: await nameOf(s.importKey('raw', hmacJwk, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      badFormat: await nameOf(s.importKey('pem', utf8('k'), 'AES-GCM', false, ['encrypt'])),
      badUsage: await nameOf(s.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['fly'])),
      missingHash: await nameOf(s.importKey('raw', utf8('k'), 'HMAC', false, ['sign'])),
      missingArgs: await nameOf(s.sign('HMAC', hmac)),
      notAKey: await nameOf(s.sign('HMAC', {}, utf8('x'))),
      notData: await nameOf(s.sign('HMAC', hmac, 'text')),
      wrongUsage: await nameOf(s.verify('HMAC', hmac, new Uint8Array(32), utf8('x'))),
      wrongAlgorithm: await nameOf(s.sign('HMAC', aes, utf8('x'))),
      publicSigns: await nameOf(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey, utf8('x'))),
      ecdsaNoHash: await nameOf(s.sign('ECDSA', ec.privateKey, utf8('x'))),
      notExtractable: await nameOf(s.exportKey('raw', hmac)),
      privateNotExtractable: await nameOf(s.exportKey('jwk', ec.privateKey)),
      publicAsPkcs8: await nameOf(s.exportKey('pkcs8', ec.publicKey)),
      aesAsSpki: await nameOf(s.exportKey('spki', aes)),
      tagLength: await nameOf(s.encrypt({ name: 'AES-GCM', iv, tagLength: 33 }, aes, utf8('x'))),
      tagLengthRange: await nameOf(s.encrypt({ name: 'AES-GCM', iv, tagLength: 256 }, aes, utf8('x'))),
      emptyIv: await nameOf(s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(0) }, aes, utf8('x'))),
      decryptUsage: await nameOf(s.decrypt({ name: 'AES-GCM', iv }, aes, new Uint8Array(32))),
      aesLength: await nameOf(s.generateKey({ name: 'AES-GCM', length: 100 }, false, ['encrypt'])),
      hmacZero: await nameOf(s.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 0 }, false, ['sign'])),
      rsaExponent: await nameOf(s.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([5]), hash: 'SHA-256' }, false, ['sign'])),
      rsaTooBig: await nameOf(s.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 16384, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign'])),
      isDomException: await s.importKey('raw', new Uint8Array(10), 'AES-GCM', false, ['encrypt']).catch((e) => e instanceof DOMException && e.code === 0),
      rejectsNotThrows: (() => { const p = s.sign(); p.catch(() => {}); return p instanceof Promise; })(),
    };
  `);
  t.same(got, {
    unknownAlgorithm: 'NotSupportedError', ecdhNoPublic: 'TypeError', ecdhPublicNotAKey: 'TypeError', ecdhOtherCurve: 'InvalidAccessError',
    ecdhPublicBase: 'InvalidAccessError', ecdhTooLong: 'OperationError', ecdhPublicUsage: 'SyntaxError', x25519SmallOrder: 'OperationError', deriveKey: 'TypeError',
    wrapKey: 'InvalidAccessError', unwrapKey: 'TypeError', wrapNotExtractable: 'InvalidAccessError', kwForEncrypt: 'SyntaxError',
    ctrCounter: 'OperationError', ctrLength: 'OperationError', hmacSpki: 'NotSupportedError', badCurve: 'NotSupportedError',
    unknownHash: 'NotSupportedError', rsaRaw: 'NotSupportedError',
    hmacForEncrypt: 'SyntaxError', noUsages: 'SyntaxError', generateNoUsages: 'SyntaxError', pairNoSign: 'SyntaxError',
    spkiForSign: 'SyntaxError', publicJwkForSign: 'SyntaxError',
    aesShort: 'DataError', emptyHmac: 'DataError', hmacLength: 'DataError', jwkKty: 'DataError', jwkAlg: 'DataError', jwkNoK: 'DataError',
    jwkBadK: 'DataError', jwkExt: 'DataError', jwkKeyOps: 'DataError', jwkUse: 'DataError', jwkCrv: 'DataError', jwkOffCurve: 'DataError',
    jwkWrongD: 'DataError', badSpki: 'DataError', badPoint: 'DataError',
    jwkAsBytes: 'TypeError', bytesAsJwk: 'TypeError', badFormat: 'TypeError', badUsage: 'TypeError', missingHash: 'TypeError',
    missingArgs: 'TypeError', notAKey: 'TypeError', notData: 'TypeError', ecdsaNoHash: 'TypeError',
    wrongUsage: 'InvalidAccessError', wrongAlgorithm: 'InvalidAccessError', publicSigns: 'InvalidAccessError',
    notExtractable: 'InvalidAccessError', privateNotExtractable: 'InvalidAccessError', publicAsPkcs8: 'InvalidAccessError',
    aesAsSpki: 'NotSupportedError',
    tagLength: 'OperationError', tagLengthRange: 'TypeError', emptyIv: 'OperationError', decryptUsage: 'InvalidAccessError',
    aesLength: 'OperationError', hmacZero: 'OperationError', rsaExponent: 'OperationError', rsaTooBig: 'OperationError',
    isDomException: true, rejectsNotThrows: true,
  });
});

// Only the runtime's own objects are immune: a worker's parameter dictionaries do inherit (as in browsers).
t.test('a worker that pollutes prototypes still gets correct crypto', async (t) => {
  const run = await evaluator(t);
  const got = run(`
    Object.prototype.toJSON = () => ({ op: 'sign', alg: 'HMAC', hash: 'SHA-1' });
    Object.prototype.hash = 'SHA-1';
    Object.prototype.d = 'AAAA';
    Object.prototype.jwk = '{}';
    Object.prototype.secret = new ArrayBuffer(1);
    Object.defineProperty(Array.prototype, '0', { set() {}, configurable: true });
    const min = Math.min; Math.min = () => 1e9;
    const lengthGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'length');
    Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), 'length', { get: () => 3, configurable: true });
    try {
      const key = await s.importKey('raw', bytes('${'0b'.repeat(20)}'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
      const mac = hex(await s.sign('HMAC', key, utf8('Hi There')));
      const aes = await s.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']);
      const sealed = await s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, utf8('x'));
      const ec = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const publicJwk = await s.exportKey('jwk', ec.publicKey);
      const signature = await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, utf8('x'));
      const valid = await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey, signature, utf8('x'));
      const random = crypto.getRandomValues(new Uint8Array(64)).some((b) => b !== 0);
      return { mac, sealed: sealed.byteLength, publicHasD: Object.hasOwn(publicJwk, 'd'), usages: Object.hasOwn(key.usages, 0), valid, random };
    } finally {
      delete Object.prototype.toJSON; delete Object.prototype.hash; delete Object.prototype.d; delete Object.prototype.jwk; delete Object.prototype.secret;
      delete Array.prototype[0];
      Math.min = min;
      Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), 'length', lengthGetter);
    }
  `);
  t.same(got, { mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7', sealed: 17, publicHasD: false, usages: true, valid: true, random: true });
});

t.test('the host checks what it is sent and never throws', async (t) => {
  const answer = (call: unknown, buffers: unknown) => hostCrypto('subtle', [call, buffers]) as [string, string, ArrayBuffer[]];
  const key = new ArrayBuffer(16);
  const cases: [string, unknown, unknown][] = [
    ['not a string', 42, []],
    ['too long', 'x'.repeat(70_000), []],
    ['not JSON', '{op', []],
    ['JSON array', '[]', []],
    ['buffers not an array', '{"op":"sign","alg":"HMAC","hash":"SHA-256"}', 'x'],
    ['a buffer that is not an ArrayBuffer', '{"op":"sign","alg":"HMAC","hash":"SHA-256"}', [key, new Uint8Array(2)]],
    ['too many buffers', '{"op":"sign","alg":"HMAC","hash":"SHA-256"}', [key, key, key, key, key]],
    ['too many bytes', '{"op":"sign","alg":"HMAC","hash":"SHA-256"}', [key, new ArrayBuffer(17 * 1024 * 1024)]],
    ['unknown op', '{"op":"rotate"}', []],
    ['AES-KW of less than 16 bytes', '{"op":"wrapKey","alg":"AES-KW"}', [key, new ArrayBuffer(8)]],
    ['AES-CTR counter of 8 bytes', '{"op":"encrypt","alg":"AES-CTR","length":64}', [key, new ArrayBuffer(8), key]],
    ['AES-CTR counter length 0', '{"op":"encrypt","alg":"AES-CTR","length":0}', [key, new ArrayBuffer(16), key]],
    ['RSA-OAEP with a secret key', '{"op":"encrypt","alg":"RSA-OAEP","hash":"SHA-256","jwk":"{\\"kty\\":\\"oct\\",\\"k\\":\\"AA\\"}"}', [key]],
    ['deriveBits without its fields', '{"op":"deriveBits"}', []],
    ['PBKDF2 past 100,000 iterations', '{"op":"deriveBits","alg":"PBKDF2","hash":"SHA-256","iterations":100001,"length":256}', [key, key]],
    ['unknown hash', '{"op":"sign","alg":"HMAC","hash":"MD5"}', [key, key]],
    ['missing buffer', '{"op":"sign","alg":"HMAC","hash":"SHA-256"}', [key]],
    ['AES key size', '{"op":"encrypt","alg":"AES-GCM","tagLength":128}', [new ArrayBuffer(5), new ArrayBuffer(12), key]],
    ['tag length', '{"op":"encrypt","alg":"AES-GCM","tagLength":"128"}', [key, new ArrayBuffer(12), key]],
    ['JWK not JSON', '{"op":"sign","alg":"ECDSA","hash":"SHA-256","jwk":"{"}', [key]],
    ['JWK member not a string', '{"op":"sign","alg":"ECDSA","hash":"SHA-256","jwk":"{\\"kty\\":\\"EC\\",\\"crv\\":\\"P-256\\",\\"x\\":1}"}', [key]],
    ['JWK of another kind', '{"op":"sign","alg":"RSA-PSS","hash":"SHA-256","saltLength":0,"jwk":"{\\"kty\\":\\"oct\\",\\"k\\":\\"AA\\"}"}', [key]],
    ['huge RSA modulus', `{"op":"verify","alg":"RSASSA-PKCS1-v1_5","hash":"SHA-256","jwk":"{\\"kty\\":\\"RSA\\",\\"n\\":\\"${'A'.repeat(3000)}\\",\\"e\\":\\"AQAB\\"}"}`, [key, key]],
    ['import garbage', '{"op":"importKey","alg":"ECDSA","format":"pkcs8","namedCurve":"P-256"}', [key]],
    ['RSA generation too large', '{"op":"generateKey","alg":"RSA-PSS","modulusLength":65536,"publicExponent":65537}', []],
  ];
  for (const [what, call, buffers] of cases) {
    let result: [string, string, ArrayBuffer[]] | undefined;
    t.doesNotThrow(() => {
      result = answer(call, buffers);
    }, what);
    t.match(result?.[0], /^(OperationError|DataError|NotSupportedError|InvalidAccessError): ./, what);
    t.same(result?.slice(1), ['', []], what);
  }
  const ok = answer('{"op":"sign","alg":"HMAC","hash":"SHA-256"}', [key, new ArrayBuffer(3)]);
  t.equal(ok[0], '');
  t.equal(ok[2][0]!.byteLength, 32);
});

t.test('JWTs with jose: HS256, ES256 and RS256 made in the isolate verify in node, and the other way round', async (t) => {
  const jose = await import('jose');
  const bundle = await bundleWorker(`
    import { SignJWT, jwtVerify, generateKeyPair, exportJWK, importJWK } from 'jose';
    export default {
      async fetch(request) {
        const input = await request.json();
        const secret = new TextEncoder().encode(input.secret);
        const hs = await new SignJWT({ sub: 'ada', role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(secret);
        const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
        const es = await new SignJWT({ sub: 'grace' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
        const failure = async (promise) => { try { await promise; return 'verified'; } catch (e) { return e.code; } };
        return Response.json({
          hs,
          es,
          esPublic: await exportJWK(publicKey),
          self: (await jwtVerify(es, publicKey)).payload,
          nodeHs: (await jwtVerify(input.hs, secret)).payload,
          nodeEs: (await jwtVerify(input.es, await importJWK(input.esPublic, 'ES256'))).payload,
          nodeRs: (await jwtVerify(input.rs, await importJWK(input.rsPublic, 'RS256'))).payload,
          wrongSecret: await failure(jwtVerify(input.hs, new TextEncoder().encode('another secret'))),
          tampered: await failure(jwtVerify(input.es.slice(0, -4) + (input.es.endsWith('AAAA') ? 'BBBB' : 'AAAA'), await importJWK(input.esPublic, 'ES256'))),
        });
      },
    };
  `, import.meta.dirname);
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(bundle);

  const secretText = 'a shared secret of at least 32 bytes!!';
  const secret = new TextEncoder().encode(secretText);
  const es = await jose.generateKeyPair('ES256', { extractable: true });
  const rs = await jose.generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const input = {
    secret: secretText,
    hs: await new jose.SignJWT({ from: 'node', n: 1 }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
    es: await new jose.SignJWT({ from: 'node', n: 2 }).setProtectedHeader({ alg: 'ES256' }).sign(es.privateKey),
    esPublic: await jose.exportJWK(es.publicKey),
    rs: await new jose.SignJWT({ from: 'node', n: 3 }).setProtectedHeader({ alg: 'RS256' }).sign(rs.privateKey),
    rsPublic: await jose.exportJWK(rs.publicKey),
  };
  const answer = worker.fetch('https://jwt.test/', { method: 'POST', body: JSON.stringify(input) });
  t.equal(answer.status, 200, answer.error?.stack ?? answer.body ?? '');
  const body = JSON.parse(answer.body!);
  t.same(body.nodeHs, { from: 'node', n: 1 });
  t.same(body.nodeEs, { from: 'node', n: 2 });
  t.same(body.nodeRs, { from: 'node', n: 3 });
  t.same(body.self, { sub: 'grace' });
  t.equal(body.wrongSecret, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  t.equal(body.tampered, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');

  const hs = await jose.jwtVerify(body.hs, secret);
  t.match(hs.payload, { sub: 'ada', role: 'admin' });
  t.equal(hs.payload.exp! - hs.payload.iat!, 300);
  t.same(hs.protectedHeader, { alg: 'HS256' });
  const esPublic = await jose.importJWK(body.esPublic, 'ES256');
  const verified = await jose.jwtVerify(body.es, esPublic);
  t.same(verified.payload, { sub: 'grace' });
  await t.rejects(jose.jwtVerify(body.hs, new TextEncoder().encode('another secret of 32 bytes or more')), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

t.test('crypto.subtle.digest of more than 16 MiB is the real digest', async (t) => {
  const size = 17 * 1024 * 1024;
  const w = await Evaluator.create();
  t.teardown(() => w.dispose());
  const got = w.run(`const data = new Uint8Array(${size}).fill(1); return [...new Uint8Array(await crypto.subtle.digest('SHA-256', data))].map((b) => b.toString(16).padStart(2, '0')).join('')`);
  t.equal(got, createHash('sha256').update(Buffer.alloc(size, 1)).digest('hex'));
});

t.test('the host refuses a digest past its limit instead of hashing something else', async (t) => {
  t.equal(hostCrypto('digest', ['SHA-256', new ArrayBuffer(MAX_DIGEST_BYTES + 1)]), null);
  t.equal(hostCrypto('digest', ['SHA-256', 'not bytes']), null);
});

t.test('Ed25519 (and Workers\' NODE-ED25519 name): verify what Node signed, sign what Node verifies, generate, export', async (t) => {
  const w = await Evaluator.create();
  t.teardown(() => w.dispose());
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex');
  const message = 'interaction body';
  const nodeSignature = sign(null, Buffer.from(message), privateKey).toString('hex');
  const out = w.run(`
    const hex = (s) => new Uint8Array(s.match(/../g).map((b) => parseInt(b, 16)));
    const toHex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
    const data = new TextEncoder().encode(${JSON.stringify(message)});
    const s = crypto.subtle;
    const pub = await s.importKey('raw', hex('${raw}'), { name: 'Ed25519' }, true, ['verify']);
    const legacy = await s.importKey('raw', hex('${raw}'), { name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }, false, ['verify']);
    const good = await s.verify('Ed25519', pub, hex('${nodeSignature}'), data);
    const legacyGood = await s.verify({ name: 'NODE-ED25519' }, legacy, hex('${nodeSignature}'), data);
    const tampered = hex('${nodeSignature}'); tampered[0] ^= 1;
    const bad = await s.verify('Ed25519', pub, tampered, data);
    const short = await s.verify('Ed25519', pub, new Uint8Array(10), data);
    const priv = await s.importKey('pkcs8', hex('${pkcs8}'), 'Ed25519', true, ['sign']);
    const signature = toHex(await s.sign('Ed25519', priv, data));
    const pair = await s.generateKey('Ed25519', true, ['sign', 'verify']);
    const jwk = await s.exportKey('jwk', pair.privateKey);
    const roundTrip = await s.verify('Ed25519', await s.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'Ed25519', true, ['verify']), await s.sign('Ed25519', pair.privateKey, data), data);
    const rawOut = (await s.exportKey('raw', pub)).byteLength;
    let badLength = null;
    try { await s.importKey('raw', new Uint8Array(31), 'Ed25519', false, ['verify']); } catch (e) { badLength = e.name; }
    return { good, legacyGood, bad, short, signature, algorithm: pair.publicKey.algorithm, jwk: [jwk.kty, jwk.crv, typeof jwk.d], roundTrip, rawOut, badLength };
  `) as Record<string, unknown>;
  t.same(
    { ...out, signature: undefined },
    { good: true, legacyGood: true, bad: false, short: false, signature: undefined, algorithm: { name: 'Ed25519' }, jwk: ['OKP', 'Ed25519', 'string'], roundTrip: true, rawOut: 32, badLength: 'DataError' },
  );
  t.ok(verify(null, Buffer.from(message), publicKey, Buffer.from(out.signature as string, 'hex')), 'Node verifies what the isolate signed');
});

t.test('PBKDF2 and HKDF: deriveBits matches node:crypto, deriveKey makes usable keys, the limits as on Workers', async (t) => {
  const w = await Evaluator.create();
  t.teardown(() => w.dispose());
  const out = w.run(`
    const s = crypto.subtle;
    const enc = new TextEncoder();
    const toHex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
    const password = await s.importKey('raw', enc.encode('correct horse'), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
    const pbkdf2 = toHex(await s.deriveBits({ name: 'PBKDF2', salt: enc.encode('salt'), iterations: 1000, hash: 'SHA-256' }, password, 256));
    const ikm = await s.importKey('raw', enc.encode('input keying material'), 'HKDF', false, ['deriveBits']);
    const hkdf = toHex(await s.deriveBits({ name: 'HKDF', salt: enc.encode('salt'), info: enc.encode('info'), hash: 'SHA-256' }, ikm, 336));
    const aes = await s.deriveKey({ name: 'PBKDF2', salt: enc.encode('salt'), iterations: 1000, hash: 'SHA-256' }, password, { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    const iv = new Uint8Array(12);
    const sealed = await s.encrypt({ name: 'AES-GCM', iv }, aes, enc.encode('secret'));
    const opened = new TextDecoder().decode(await s.decrypt({ name: 'AES-GCM', iv }, aes, sealed));
    const hmac = await s.deriveKey({ name: 'PBKDF2', salt: enc.encode('salt'), iterations: 10, hash: 'SHA-256' }, password, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const errors = [];
    const attempt = async (f) => { try { await f(); errors.push('ok'); } catch (e) { errors.push(e.name); } };
    await attempt(() => s.deriveBits({ name: 'PBKDF2', salt: enc.encode('s'), iterations: 100001, hash: 'SHA-256' }, password, 256));
    await attempt(() => s.importKey('raw', enc.encode('p'), 'PBKDF2', true, ['deriveBits']));
    await attempt(() => s.deriveBits({ name: 'PBKDF2', salt: enc.encode('s'), iterations: 1, hash: 'SHA-256' }, password, 7));
    await attempt(() => s.deriveBits({ name: 'HKDF', salt: enc.encode('s'), info: enc.encode('i'), hash: 'SHA-256' }, password, 256));
    await attempt(() => s.exportKey('raw', password));
    await attempt(() => s.deriveBits({ name: 'PBKDF2', salt: enc.encode('s'), iterations: 100000, hash: 'SHA-256' }, password, 512));
    await attempt(() => s.deriveBits({ name: 'PBKDF2', salt: new Uint8Array(2048), iterations: 1, hash: 'SHA-256' }, password, 256));
    return { pbkdf2, hkdf, opened, aesAlgorithm: aes.algorithm, hmacLength: hmac.algorithm.length, errors };
  `) as Record<string, unknown>;
  t.equal(out.pbkdf2, pbkdf2Sync('correct horse', 'salt', 1000, 32, 'sha256').toString('hex'));
  t.equal(out.hkdf, Buffer.from(hkdfSync('sha256', 'input keying material', 'salt', 'info', 42)).toString('hex'));
  t.equal(out.opened, 'secret');
  t.same(out.aesAlgorithm, { name: 'AES-GCM', length: 256 });
  t.equal(out.hmacLength, 512, "an HMAC key's default length is the hash's block size");
  // The last two: the host bounds the whole work of one uninterruptible call (iterations × output blocks, the salt).
  t.same(out.errors, ['NotSupportedError', 'SyntaxError', 'OperationError', 'InvalidAccessError', 'InvalidAccessError', 'NotSupportedError', 'NotSupportedError']);
});

t.test("AES-CTR, AES-KW and RSA-OAEP give the bytes Node's WebCrypto gives, and read what it made", async (t) => {
  const run = await evaluator(t);
  const subtle = globalThis.crypto.subtle;
  const aesKey = randomBytes(32);
  const kek = randomBytes(16);
  // The counter's low byte at 0xfe with length 8: the third block wraps it to 0x00 (the upper bits stay).
  const counter = Buffer.concat([randomBytes(15), Buffer.of(0xfe)]);
  const data = randomBytes(100);
  const oaep = (await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt'])) as import('node:crypto').webcrypto.CryptoKeyPair;
  const label = Buffer.from('a label');
  const fromNode = await subtle.encrypt({ name: 'RSA-OAEP', label }, oaep.publicKey, data);
  const got = run(`
    const key = await s.importKey('raw', bytes('${hex(aesKey)}'), 'AES-CTR', true, ['encrypt', 'decrypt']);
    const ctr = (length) => ({ name: 'AES-CTR', counter: bytes('${hex(counter)}'), length });
    const data = bytes('${hex(data)}');
    const c8 = await s.encrypt(ctr(8), key, data);
    const c128 = await s.encrypt(ctr(128), key, data);
    const kek = await s.importKey('raw', bytes('${hex(kek)}'), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
    const wrapped = await s.wrapKey('raw', key, kek, 'AES-KW');
    const unwrapped = await s.unwrapKey('raw', wrapped, kek, 'AES-KW', 'AES-GCM', true, ['encrypt']);
    const publicKey = await s.importKey('jwk', ${JSON.stringify(await subtle.exportKey('jwk', oaep.publicKey))}, { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
    const privateKey = await s.importKey('jwk', ${JSON.stringify(await subtle.exportKey('jwk', oaep.privateKey))}, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const own = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-512' }, true, ['encrypt', 'decrypt']);
    return {
      c8: hex(c8), c128: hex(c128), back: hex(await s.decrypt(ctr(8), key, c8)),
      wrapped: hex(wrapped), unwrapped: hex(await s.exportKey('raw', unwrapped)), unwrappedAlgorithm: unwrapped.algorithm,
      oaep: hex(await s.encrypt({ name: 'RSA-OAEP', label: utf8('a label') }, publicKey, data)),
      fromNode: hex(await s.decrypt({ name: 'RSA-OAEP', label: utf8('a label') }, privateKey, bytes('${hex(fromNode)}'))),
      wrongLabel: await nameOf(s.decrypt({ name: 'RSA-OAEP', label: utf8('another') }, privateKey, bytes('${hex(fromNode)}'))),
      ownRoundTrip: hex(await s.decrypt('RSA-OAEP', own.privateKey, await s.encrypt('RSA-OAEP', own.publicKey, data))),
      ownJwkAlg: (await s.exportKey('jwk', own.publicKey)).alg,
      ownUsages: [own.publicKey.usages, own.privateKey.usages],
      tooLong: await nameOf(s.encrypt('RSA-OAEP', publicKey, new Uint8Array(200))),
    };
  `) as Record<string, string>;
  const ctrKey = await subtle.importKey('raw', aesKey, 'AES-CTR', false, ['encrypt']);
  t.equal(got.c8, hex(await subtle.encrypt({ name: 'AES-CTR', counter, length: 8 }, ctrKey, data)), 'AES-CTR, counter wrapping in its 8 bits');
  t.equal(got.c128, hex(await subtle.encrypt({ name: 'AES-CTR', counter, length: 128 }, ctrKey, data)), 'AES-CTR, 128-bit counter');
  t.not(got.c8, got.c128, 'the wrap changes the output');
  t.equal(got.back, hex(data));
  const kekKey = await subtle.importKey('raw', kek, 'AES-KW', false, ['wrapKey']);
  const nodeWrapped = await subtle.wrapKey('raw', await subtle.importKey('raw', aesKey, 'AES-GCM', true, ['encrypt']), kekKey, 'AES-KW');
  t.equal(got.wrapped, hex(nodeWrapped), 'AES-KW (RFC 3394) as Node wraps');
  t.equal(got.unwrapped, hex(aesKey));
  t.same(got.unwrappedAlgorithm, { name: 'AES-GCM', length: 256 });
  t.equal(hex(await subtle.decrypt({ name: 'RSA-OAEP', label }, oaep.privateKey, Buffer.from(got.oaep!, 'hex'))), hex(data), 'RSA-OAEP made in the isolate, read by Node');
  t.equal(got.fromNode, hex(data), 'and the other way round');
  t.equal(got.wrongLabel, 'OperationError');
  t.equal(got.ownRoundTrip, hex(data));
  t.equal(got.ownJwkAlg, 'RSA-OAEP-512');
  t.same(got.ownUsages, [['encrypt'], ['decrypt']]);
  t.equal(got.tooLong, 'OperationError');
});

t.test('wrapKey and unwrapKey move a JWK through AES-GCM and a raw key through RSA-OAEP', async (t) => {
  const run = await evaluator(t);
  const got = run(`
    const hmac = await s.importKey('raw', utf8('a secret'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
    const gcm = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const wrapped = await s.wrapKey('jwk', hmac, gcm, { name: 'AES-GCM', iv });
    const back = await s.unwrapKey('jwk', wrapped, gcm, { name: 'AES-GCM', iv }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const rsa = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['wrapKey', 'unwrapKey']);
    const aes = await s.generateKey({ name: 'AES-CTR', length: 128 }, true, ['encrypt']);
    const sealed = await s.wrapKey('raw', aes, rsa.publicKey, 'RSA-OAEP');
    const opened = await s.unwrapKey('raw', sealed, rsa.privateKey, 'RSA-OAEP', 'AES-CTR', true, ['encrypt']);
    const tampered = new Uint8Array(wrapped); tampered[0] ^= 1;
    return {
      sameMac: hex(await s.sign('HMAC', hmac, utf8('x'))) === hex(await s.sign('HMAC', back, utf8('x'))),
      backExtractable: back.extractable,
      sameAes: hex(await s.exportKey('raw', aes)) === hex(await s.exportKey('raw', opened)),
      tampered: await nameOf(s.unwrapKey('jwk', tampered, gcm, { name: 'AES-GCM', iv }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
      wrongUsage: await nameOf(s.wrapKey('raw', aes, rsa.privateKey, 'RSA-OAEP')),
    };
  `);
  t.same(got, { sameMac: true, backExtractable: false, sameAes: true, tampered: 'OperationError', wrongUsage: 'InvalidAccessError' });
});

t.test('JWE with jose: RSA-OAEP-256 and A128KW made in the isolate decrypt in node, and the other way round', async (t) => {
  const jose = await import('jose');
  const bundle = await bundleWorker(`
    import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
    export default {
      async fetch(request) {
        const input = await request.json();
        const text = (result) => new TextDecoder().decode(result.plaintext);
        const kek = new Uint8Array(input.kek);
        const rsaPublic = await importJWK(input.rsaPublic, 'RSA-OAEP-256');
        const rsaPrivate = await importJWK(input.rsaPrivate, 'RSA-OAEP-256');
        return Response.json({
          rsa: await new CompactEncrypt(new TextEncoder().encode('for node, sealed with RSA')).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }).encrypt(rsaPublic),
          kw: await new CompactEncrypt(new TextEncoder().encode('for node, wrapped with AES-KW')).setProtectedHeader({ alg: 'A128KW', enc: 'A128CBC-HS256' }).encrypt(kek),
          nodeRsa: text(await compactDecrypt(input.rsa, rsaPrivate)),
          nodeKw: text(await compactDecrypt(input.kw, kek)),
        });
      },
    };
  `, import.meta.dirname);
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(bundle);
  const rsa = await jose.generateKeyPair('RSA-OAEP-256', { extractable: true, modulusLength: 2048 });
  const kek = randomBytes(16);
  const input = {
    kek: [...kek],
    rsaPublic: await jose.exportJWK(rsa.publicKey),
    rsaPrivate: await jose.exportJWK(rsa.privateKey),
    rsa: await new jose.CompactEncrypt(Buffer.from('for the isolate, RSA')).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }).encrypt(rsa.publicKey),
    kw: await new jose.CompactEncrypt(Buffer.from('for the isolate, AES-KW')).setProtectedHeader({ alg: 'A128KW', enc: 'A128GCM' }).encrypt(kek),
  };
  const answer = worker.fetch('https://jwe.test/', { method: 'POST', body: JSON.stringify(input) });
  t.equal(answer.status, 200, answer.error?.stack ?? answer.body ?? '');
  const body = JSON.parse(answer.body!);
  t.equal(body.nodeRsa, 'for the isolate, RSA');
  t.equal(body.nodeKw, 'for the isolate, AES-KW');
  t.equal(Buffer.from((await jose.compactDecrypt(body.rsa, rsa.privateKey)).plaintext).toString(), 'for node, sealed with RSA');
  t.equal(Buffer.from((await jose.compactDecrypt(body.kw, kek)).plaintext).toString(), 'for node, wrapped with AES-KW');
});

t.test("ECDH and X25519 agree with Node's WebCrypto on the shared secret", async (t) => {
  const run = await evaluator(t);
  const subtle = globalThis.crypto.subtle;
  type Pair = import('node:crypto').webcrypto.CryptoKeyPair;
  const ec = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as Pair;
  const x = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as unknown as Pair;
  const got = run(`
    const ecPeer = await s.importKey('raw', bytes('${hex(await subtle.exportKey('raw', ec.publicKey))}'), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    const xPeer = await s.importKey('raw', bytes('${hex(await subtle.exportKey('raw', x.publicKey))}'), 'X25519', true, []);
    const ecOwn = await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits', 'deriveKey']);
    const xOwn = await s.generateKey({ name: 'X25519' }, true, ['deriveBits', 'deriveKey']);
    const ecJwk = await s.exportKey('jwk', ecOwn.privateKey);
    const fromJwk = await s.importKey('jwk', ecJwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const aes = await s.deriveKey({ name: 'X25519', public: xPeer }, xOwn.privateKey, { name: 'AES-GCM', length: 256 }, true, ['encrypt']);
    return {
      ecPublic: hex(await s.exportKey('raw', ecOwn.publicKey)),
      xPublic: hex(await s.exportKey('raw', xOwn.publicKey)),
      ecPrivateJwk: ecJwk,
      xPrivateJwk: await s.exportKey('jwk', xOwn.privateKey),
      ec: hex(await s.deriveBits({ name: 'ECDH', public: ecPeer }, ecOwn.privateKey, null)),
      ec100: hex(await s.deriveBits({ name: 'ECDH', public: ecPeer }, fromJwk, 100)),
      x: hex(await s.deriveBits({ name: 'X25519', public: xPeer }, xOwn.privateKey)),
      aes: hex(await s.exportKey('raw', aes)),
      algorithms: [ecOwn.privateKey.algorithm, xOwn.publicKey.algorithm, ecOwn.publicKey.usages, xOwn.privateKey.usages],
    };
  `) as Record<string, unknown>;
  const ecPublic = await subtle.importKey('raw', Buffer.from(got.ecPublic as string, 'hex'), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const xPublic = await subtle.importKey('raw', Buffer.from(got.xPublic as string, 'hex'), 'X25519', false, []);
  t.equal(got.ec, hex(await subtle.deriveBits({ name: 'ECDH', public: ecPublic }, ec.privateKey, 256)), 'ECDH P-256');
  t.equal(got.ec100, hex(await subtle.deriveBits({ name: 'ECDH', public: ecPublic }, ec.privateKey, 100)), 'ECDH, 100 bits');
  const xSecret = await subtle.deriveBits({ name: 'X25519', public: xPublic }, x.privateKey, 256);
  t.equal(got.x, hex(xSecret), 'X25519');
  t.equal(got.aes, hex(xSecret), 'deriveKey: the first 256 bits as an AES key');
  const ecImported = await subtle.importKey('jwk', got.ecPrivateJwk as import('node:crypto').webcrypto.JsonWebKey, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const xImported = await subtle.importKey('jwk', got.xPrivateJwk as import('node:crypto').webcrypto.JsonWebKey, 'X25519', false, ['deriveBits']);
  t.equal(hex(await subtle.deriveBits({ name: 'ECDH', public: ec.publicKey }, ecImported, 256)), got.ec, "Node reads the isolate's ECDH JWK");
  t.equal(hex(await subtle.deriveBits({ name: 'X25519', public: x.publicKey }, xImported, 256)), got.x, "and its X25519 JWK");
  t.same(got.algorithms, [{ name: 'ECDH', namedCurve: 'P-256' }, { name: 'X25519' }, [], ['deriveKey', 'deriveBits']]);
});

t.test('crypto.DigestStream hashes what is written, as the host hashes it whole', async (t) => {
  const run = await evaluator(t);
  const parts = [randomBytes(1000), randomBytes(70_000), randomBytes(3)];
  const whole = Buffer.concat(parts);
  const got = run(`
    const parts = [${parts.map((p) => `bytes('${hex(p)}')`).join(', ')}];
    const stream = new crypto.DigestStream('SHA-256');
    const writer = stream.getWriter();
    for (const part of parts) await writer.write(part);
    await writer.close();
    const piped = new crypto.DigestStream({ name: 'SHA-512' });
    await new ReadableStream({ start(c) { for (const part of parts) c.enqueue(part); c.close(); } }).pipeTo(piped);
    const md5 = new crypto.DigestStream('MD5');
    await new Blob([parts[0]]).stream().pipeTo(md5);
    const aborted = new crypto.DigestStream('SHA-1');
    const abortedWriter = aborted.getWriter();
    await abortedWriter.write(parts[2]);
    await abortedWriter.abort(new Error('stop'));
    const textWriter = new crypto.DigestStream('SHA-256').getWriter();
    return {
      sha256: hex(await stream.digest),
      sha512: hex(await piped.digest),
      md5: hex(await md5.digest),
      aborted: await aborted.digest.then(() => 'resolved', (e) => e.message),
      text: await textWriter.write('text').then(() => 'written', (e) => e.name),
      unknown: await nameOf((async () => new crypto.DigestStream('SHA-3'))()),
      isWritable: stream instanceof WritableStream,
      name: crypto.DigestStream.name,
    };
  `);
  t.same(got, {
    sha256: createHash('sha256').update(whole).digest('hex'),
    sha512: createHash('sha512').update(whole).digest('hex'),
    md5: createHash('md5').update(parts[0]!).digest('hex'),
    aborted: 'stop',
    text: 'TypeError',
    unknown: 'NotSupportedError',
    isWritable: true,
    name: 'DigestStream',
  });
});

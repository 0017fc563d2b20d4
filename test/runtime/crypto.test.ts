import t from 'tap';
import { TestWorker } from './harness.ts';

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
    const big = crypto.getRandomValues(new Uint8Array(65536));
    return Response.json({ a: [...a], b: [...b], uuids, errors, bigNonZero: big.some((x) => x !== 0), tag: String(crypto) });
  } }`);
  const body = JSON.parse(worker.fetch('http://x/').body as string);
  t.equal(body.a.length, 32);
  t.ok(body.a.some((x: number) => x !== 0), 'bytes are not all zero');
  t.equal(body.b.length, 4);
  for (const uuid of body.uuids) t.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(body.uuids[0], body.uuids[1]);
  t.same(body.errors, ['TypeMismatchError', 'QuotaExceededError', 'TypeError']);
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
    try { await crypto.subtle.digest('MD5', data) } catch (e) { out.errors.push(e.name) }
    try { await crypto.subtle.digest('SHA-256', 'abc') } catch (e) { out.errors.push(e.name) }
    return Response.json(out);
  } }`);
  const answer = worker.fetch('http://x/', {}, 10);
  const body = JSON.parse(answer.body as string);
  t.equal(body['SHA-1'], 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.equal(body['sha-256'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(body['SHA-384'], 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7');
  t.equal(body['SHA-512'], 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
  t.equal(body.object, body['sha-256']);
  t.same(body.errors, ['NotSupportedError', 'TypeError']);
});

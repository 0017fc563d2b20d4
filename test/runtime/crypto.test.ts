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

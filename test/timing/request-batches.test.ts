/**
 * Requests for one isolate that arrive in the same turn (with no body, or a UTF-8 one) enter it once (request-batches.ts,
 * runtime/batch.ts), and each is still charged its own CPU, held to its own CPU limit and owns what it
 * starts. Run on a real Executor with real isolates; `TenantIsolate.enter` is watched to count entries.
 */
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor, ResponseMessage } from '../../src/isolates/protocol.ts';
import { executorEnds } from '../helpers/executor-ends.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';
import { BURN, calibrator } from '../../bench/lib/calibrated-burn.ts';

const runtime = await buildRuntimeBundle();

/** The first argument (the dispatch op) of every entry into a tenant isolate. */
const entries: string[] = [];
const enter = TenantIsolate.prototype.enter;
TenantIsolate.prototype.enter = function (this: TenantIsolate, args, ...rest) {
  entries.push(String(args[0]));
  return enter.call(this, args, ...rest);
};
/** Isolates disposed. */
let disposed = 0;
const dispose = TenantIsolate.prototype.dispose;
TenantIsolate.prototype.dispose = function (this: TenantIsolate) {
  disposed++;
  return dispose.call(this);
};
t.teardown(() => {
  TenantIsolate.prototype.enter = enter;
  TenantIsolate.prototype.dispose = dispose;
});

// Each request's path says what it does: /burn/<n> loops burn(n), /wait waits 20 ms on a timer,
// /log/<x> logs x, /loop never ends, /buffer asks for an ArrayBuffer past the memory limit, /stream
// answers with a stream, /later answers at once and keeps a waitUntil() promise 10 ms, /echo answers with
// its body's bytes and its text, /size its body's length. The answer is the path, so a mix-up shows.
const WORKER = `${BURN}
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const [, what, arg] = path.split('/');
    if (what === 'burn') burn(Number(arg));
    if (what === 'wait') await new Promise((resolve) => setTimeout(resolve, 20));
    if (what === 'log') console.log('line of ' + arg);
    if (what === 'loop') for (;;);
    if (what === 'buffer') new Uint8Array(2 ** 30);
    if (what === 'stream') return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(path)); c.close(); } }));
    if (what === 'later') ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)));
    if (what === 'size') return new Response(String((await request.text()).length));
    if (what === 'echo') return new Response(new Uint8Array(await request.clone().arrayBuffer()).join(',') + '|' + (await request.text()));
    return new Response(path);
  },
};`;

const version: Version = {
  id: 'v1',
  worker: 'w',
  createdAt: new Date().toISOString(),
  syntax: 'module',
  main: 'main.js',
  modules: [{ name: 'main.js', type: 'esm', content: WORKER }],
  bindings: [],
  compatibilityDate: null,
  limits: { ...DEFAULT_LIMITS, cpuMs: 50 },
} as unknown as Version;

/** An executor with the version loaded and its isolate warmed by one request to `warmPath`; entries counted from here. */
async function start(t: { teardown(fn: () => void): void }, warmPath = '/warm') {
  const messages: FromExecutor[] = [];
  const executor = new Executor(runtime, { pool: { maxIsolates: 4, maxMemoryBytes: 1e9, idleMs: 60_000 }, idleGcMs: 0, fetchAllow: [], codeCacheDir: null, quickStartCpuMs: null }, (m) => messages.push(m));
  t.teardown(() => executor.close());
  executor.handle({ t: 'load', version });
  let id = 0;
  /** With a body that is not UTF-8, the request enters at once rather than with the turn's batch. */
  const invoke = (path: string, body: ArrayBuffer | null = null) => {
    const method = body === null ? 'GET' : 'POST';
    executor.handle({ t: 'invoke', id: ++id, requestId: `r${id}`, worker: 'w', versionId: 'v1', deadline: Date.now() + 10_000, request: { method, url: `http://w.localhost${path}`, headers: 'host\nw.localhost', body } });
    return id;
  };
  const ends = (ids: number[]) => executorEnds(messages, ids);
  const bodies = () => new Map(messages.filter((m): m is ResponseMessage => m.t === 'response').map((m) => [m.id, m.body]));
  await ends([invoke(warmPath)]);
  entries.length = 0;
  return { messages, invoke, ends, bodies };
}

t.test('requests of one turn enter the isolate once, each answered with its own response', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  const ids = ['/a', '/b', '/c', '/d', '/e'].map((path) => invoke(path));
  const ended = await ends(ids);
  t.same(entries, ['requests'], 'one entry for the five');
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok', 'ok', 'ok']);
  t.same(ids.map((id) => bodies().get(id)), ['/a', '/b', '/c', '/d', '/e']);
});

t.test('each request of a batch is charged its own CPU and has its own CPU limit', async (t) => {
  const reference = calibrator(20);
  t.teardown(() => reference.dispose());
  // ~30 ms of CPU each: two of them in one entry take more than the 50 ms limit together.
  let n = 1e6;
  while (reference.measure(n) < 30_000) n *= 1.5;
  // The last step may overshoot to ~45 ms, too near the 50 ms limit on a busy machine: scale back to ~30.
  n = Math.round((n * 30_000) / reference.measure(n));
  const expectedUs = reference.measure(n);
  const { invoke, ends } = await start(t, `/burn/${n}`);
  const ids = ['/light', `/burn/${n}`, '/light', `/burn/${n}`, '/light'].map((path) => invoke(path));
  const ended = await ends(ids);
  // Measured again after the batch: this machine's speed can swing by half within a second (the same
  // burn took 30 ms of CPU before a batch whose burns were charged 41 and 48), so the charge is held to
  // what the burn cost around it, with the same tolerance.
  const afterUs = reference.measure(n);
  const [lowUs, highUs] = [Math.min(expectedUs, afterUs), Math.max(expectedUs, afterUs)];
  t.same(entries, ['requests'], 'one entry');
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok', 'ok', 'ok'], 'none ran into the limit: 60 ms in all, under 50 ms each');
  // Above, a wider margin: with another test file on the second core the same burn has also been charged
  // 44 ms (calibrated 30 ms before and after, in a full `npm test`). Still under what both burns cost
  // together (~60 ms), which a batch charging one request for another's CPU would show.
  for (const i of [1, 3]) {
    const cpuUs = ended[i]!.cpuUs;
    t.ok(cpuUs > lowUs - Math.max(3000, lowUs * 0.2) && cpuUs < highUs + Math.max(3000, highUs * 0.6), `the burning one is charged its CPU (${cpuUs} µs, calibrated ${expectedUs} µs before and ${afterUs} µs after)`);
  }
  for (const i of [0, 2, 4]) t.ok(ended[i]!.cpuUs < 3000, `a light one is charged only its own (${ended[i]!.cpuUs} µs)`);
});

t.test('a request that runs past its limit ends exceededCpu; those before it end ok, those after it run in a new isolate', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  const ids = ['/first', '/loop', '/after'].map((path) => invoke(path));
  const ended = await ends(ids);
  t.same(entries.slice(0, 1), ['requests']);
  t.same(ended.map((e) => e.outcome), ['ok', 'exceededCpu', 'ok']);
  t.equal(bodies().get(ids[0]!), '/first', 'the one before was answered');
  t.equal(bodies().get(ids[2]!), '/after', 'the one the batch had not started was answered from a new isolate');
  t.ok(ended[2]!.cold, 'after a cold start');
  t.ok(ended[1]!.cpuUs >= 45_000 && ended[1]!.cpuUs < 80_000, `the loop is charged about its limit (${ended[1]!.cpuUs} µs)`);
  t.ok(ended[0]!.cpuUs < 5000, `the one before is charged only its own (${ended[0]!.cpuUs} µs)`);
  // The isolate was recycled: the next request gets a new one and is served.
  const next = invoke('/next');
  t.same((await ends([next]))[0]!.outcome, 'ok');
});

t.test('a request that waits stops the batch: the rest run one by one, and its timer stays its own', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  const ids = ['/wait', '/b', '/c'].map((path) => invoke(path));
  const ended = await ends(ids);
  t.same(entries, ['requests', 'request', 'request', 'timer'], 'the batch, then the two it did not start, then the timer');
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok']);
  t.same(ids.map((id) => bodies().get(id)), ['/wait', '/b', '/c']);
});

t.test("a batch's console lines carry their own request's id", async (t) => {
  const { invoke, ends, messages } = await start(t);
  const ids = ['/log/x', '/log/y', '/log/z'].map((path) => invoke(path));
  await ends(ids);
  t.same(entries, ['requests']);
  const lines = messages.flatMap((m) => (m.t === 'log' ? [[m.requestId, m.message]] : []));
  t.same(lines, ids.map((id, i) => [`r${id}`, `line of ${'xyz'[i]}`]));
});

t.test('after a request leaves the isolate unfit (an ArrayBuffer past its memory), the rest run in a new one', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  const ids = ['/first', '/buffer', '/b', '/c'].map((path) => invoke(path));
  const ended = await ends(ids);
  t.same(entries.slice(0, 1), ['requests']);
  t.same(ended.map((e) => e.outcome), ['ok', 'exceededMemory', 'ok', 'ok']);
  t.same([ids[2], ids[3]].map((id) => bodies().get(id!)), ['/b', '/c']);
  t.ok(ended[2]!.cold, 'the first of them after a cold start');
});

t.test('a streamed answer and a waitUntil() in a batch: each ends ok with its own answer', async (t) => {
  const { invoke, ends, bodies, messages } = await start(t);
  const ids = ['/stream', '/a', '/later', '/b'].map((path) => invoke(path));
  const ended = await ends(ids);
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok', 'ok']);
  const streamed = messages.flatMap((m) => (m.t === 'chunk' && m.id === ids[0] ? [Buffer.from(m.chunk).toString()] : []));
  t.same(streamed.join(''), '/stream', 'the stream is sent whole');
  t.same([ids[1], ids[2], ids[3]].map((id) => bodies().get(id!)), ['/a', '/later', '/b']);
  t.equal(entries[0], 'requests');
  t.ok(entries.includes('request'), 'the one after the waitUntil() entered by itself');
});

t.test('requests queued for the turn are not lost when another request fails the isolate first', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  disposed = 0;
  // The two GETs wait for the end of the turn; the POST (its body is not UTF-8) enters at once and loops to its limit.
  const ids = [invoke('/a'), invoke('/b'), invoke('/loop', new Uint8Array([0xff]).buffer)];
  const ended = await ends(ids);
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'exceededCpu']);
  t.same([ids[0], ids[1]].map((id) => bodies().get(id!)), ['/a', '/b'], 'answered from a new isolate');
  t.ok(ended[0]!.cold, 'after a cold start');
  t.equal(disposed, 1, 'the isolate they left is disposed, not kept with nothing on it');
});

t.test('requests with a UTF-8 body join the batch and read the same bytes; other bodies enter by themselves', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  const bytes = (...values: number[]) => new Uint8Array(values).buffer;
  const utf8 = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
  const ids = [
    invoke('/echo', utf8('{"name":"héllo 👋"}')),
    invoke('/echo', bytes(0xef, 0xbb, 0xbf, 0x61)),
    invoke('/echo', bytes(0xff, 0x00)),
    // The text 'stream' is how the bridge marks a streamed body: it must stay bytes.
    invoke('/echo', utf8('stream')),
    invoke('/echo', new ArrayBuffer(0)),
  ];
  const ended = await ends(ids);
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok', 'ok', 'ok']);
  t.same(entries, ['request', 'request', 'requests'], 'the two bodies that are not taken as text entered at once, the three others together');
  const text = (body: unknown) => (typeof body === 'string' ? body : new TextDecoder().decode(body as ArrayBuffer));
  t.same(
    ids.map((id) => text(bodies().get(id))),
    [
      `${Array.from(new TextEncoder().encode('{"name":"héllo 👋"}')).join(',')}|{"name":"héllo 👋"}`,
      '239,187,191,97|a',
      '255,0|\ufffd\u0000',
      '115,116,114,101,97,109|stream',
      '|',
    ],
    'the same bytes as sent, and the text UTF-8 decoding gives (byte order mark stripped)',
  );
});

t.test('a batch carries at most 256 K characters of bodies: the next request starts another entry', async (t) => {
  const { invoke, ends, bodies } = await start(t);
  // Six 60 K bodies: four fit in one entry (240 K), the fifth starts the next.
  const ids = Array.from({ length: 6 }, (_, i) => invoke('/size', new TextEncoder().encode(String(i).repeat(60_000)).buffer as ArrayBuffer));
  const ended = await ends(ids);
  t.same(ended.map((e) => e.outcome), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  t.same(entries, ['requests', 'requests'], 'two entries');
  t.same(ids.map((id) => bodies().get(id)), Array(6).fill('60000'));
});

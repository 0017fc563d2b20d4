/**
 * Setting a subrequest up is the platform's work (executor.ts, `asPlatformWork`), as sending it is: the
 * host's side of a fetch() call, which a process's first fetch makes expensive (the egress agent is built
 * inside whichever tenant's slice asked), is neither charged to the worker nor stopped by its CPU limit;
 * a call refused past the subrequest limit is not platform work, so a loop of them gains the tenant nothing.
 * Real isolates, runtime and HTTP upstream; the host's set-up is made to take 10 ms of CPU (an
 * AbortController that computes as it is made: Subrequests.run makes one per fetch), for a worker
 * limited to 5 ms.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { platformCpuUs } from '../../src/limits/watchdog.ts';
import { executorDriver, executorEnds } from '../helpers/executor-ends.ts';

const CPU_LIMIT_MS = 5;
const SET_UP_US = 10_000;

const upstream = http.createServer((_req, res) => res.end('upstream'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => upstream.close());
const { port } = upstream.address() as AddressInfo;

/** While `slowSetUps` > 0, each AbortController made on this thread burns SET_UP_US of its CPU first. */
let slowSetUps = 0;
const HostAbortController = globalThis.AbortController;
globalThis.AbortController = class extends HostAbortController {
  constructor() {
    super();
    if (slowSetUps === 0) return;
    slowSetUps--;
    const end = threadCpuUs() + SET_UP_US;
    while (threadCpuUs() < end);
  }
};
t.teardown(() => {
  globalThis.AbortController = HostAbortController;
});

const messages: FromExecutor[] = [];
const executor = new Executor(
  await buildRuntimeBundle(),
  { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: ['127.0.0.1'], codeCacheDir: null, quickStartCpuMs: null },
  (m) => messages.push(m),
);
t.teardown(() => executor.close());

const { load, invoke } = executorDriver(executor, CPU_LIMIT_MS, '/');

t.test("a fetch's set-up on the host is not the worker's CPU", async (t) => {
  load('proxy', `export default { async fetch() { return new Response('got ' + await (await fetch('http://127.0.0.1:${port}/')).text()) } }`);
  // The isolate's first request compiles the runtime's fetch path: that is the worker's own CPU.
  const [warm] = await executorEnds(messages, [invoke('proxy')]);
  t.equal(warm!.outcome, 'ok', 'a first request, without the slow set-up');
  slowSetUps = 1;
  const before = threadCpuUs();
  const [end] = await executorEnds(messages, [invoke('proxy')]);
  t.equal(slowSetUps, 0, 'the set-up ran');
  t.ok(threadCpuUs() - before >= SET_UP_US, 'on the thread that ran the worker');
  t.equal(end!.outcome, 'ok', `not stopped at the worker's ${CPU_LIMIT_MS} ms limit`);
  t.ok(end!.cpuUs < CPU_LIMIT_MS * 1000, `charged ${Math.round(end!.cpuUs)} µs, not the set-up's ${SET_UP_US / 1000} ms`);
  t.match(messages.find((m) => m.t === 'response' && m.id === end!.id), { status: 200, body: 'got upstream' }, 'and it answered');
});

t.test('a fetch refused past the subrequest limit is not platform work: a loop of them gains no CPU', async (t) => {
  // The first 50 fetches of an invocation start (their set-up is exempt); every later one is refused at once.
  const source = (refused: number) => `export default { async fetch() {
    const started = [];
    for (let i = 0; i < 50; i++) started.push(fetch('http://127.0.0.1:${port}/').then((r) => r.text()));
    let refusals = 0;
    for (let i = 0; i < ${refused}; i++) fetch('http://127.0.0.1:${port}/').catch(() => refusals++);
    await Promise.all(started);
    await null;
    return new Response(String(refusals));
  } }`;
  load('limit-only', source(0), 2000);
  load('limit-and-loop', source(5000), 2000);
  const exempted = async (worker: string, refused: number) => {
    const before = platformCpuUs();
    const [end] = await executorEnds(messages, [invoke(worker)]);
    t.equal(end!.outcome, 'ok', worker);
    t.match(messages.find((m) => m.t === 'response' && m.id === end!.id), { body: String(refused) }, `${refused} fetches refused`);
    return platformCpuUs() - before;
  };
  // Once each first: the isolates' first runs compile what later ones do not.
  await exempted('limit-only', 0);
  await exempted('limit-and-loop', 5000);
  const fifty = await exempted('limit-only', 0);
  const withLoop = await exempted('limit-and-loop', 5000);
  t.ok(withLoop - fifty < 3000, `platform work with 5,000 refused fetches ${Math.round(withLoop)} µs, without ${Math.round(fifty)} µs: the refused ones are the tenant's`);
});
